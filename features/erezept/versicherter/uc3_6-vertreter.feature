# language: de
@UC:UC_3.6 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Vertreter @simulator-only
Funktionalität: UC 3.6 – E-Rezept durch Vertreter abrufen
  Ein Vertreter erhält vom Versicherten den E-Rezept-Token (DataMatrix-Code) und ruft das E-Rezept
  mit dem AccessCode ab. Ohne AccessCode lehnt der Fachdienst ab; zwischen einer Prüfkarte eGK und
  einem echten Versicherten ist kein Zugriff möglich, in keiner Richtung.

  @TCID:ERP_UC36_001 @TESTFALL:positiv @AFO-ID:A_18781 @AFO-ID:A_18564
  Szenario: Der Vertreter ruft das E-Rezept mit dem gescannten Token ab
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept als DataMatrix-Code an "Anna Richter" weitergegeben
    Wenn "Anna Richter" das weitergegebene E-Rezept als Vertreter abruft
    Dann sieht "Anna Richter" als Vertreter den Inhalt des E-Rezepts von "Jonas Keller"

  @TCID:ERP_UC36_002 @TESTFALL:negativ @AFO-ID:A_18781 @AFO-ID:A_18564
  Szenario: Ohne AccessCode erhält der Vertreter das E-Rezept nicht
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Anna Richter" versucht, das letzte E-Rezept von "Jonas Keller" ohne AccessCode abzurufen
    Dann lehnt der Fachdienst den Zugriff der App mit HTTP-Status 403 und dem Text "AccessCode mismatch" ab

  @TCID:ERP_UC36_003 @TESTFALL:negativ @AFO-ID:A_20756
  Szenario: Die Prüfkarte eGK erhält das E-Rezept eines Versicherten auch mit AccessCode nicht
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Erika Mustermann" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Erika Mustermann" versucht, das letzte E-Rezept von "Jonas Keller" mit dessen AccessCode abzurufen
    Dann lehnt der Fachdienst den Zugriff der App mit HTTP-Status 400 und dem Text "KVNR verification identities may not access information from insurants and vice versa" ab

  @TCID:ERP_UC36_004 @TESTFALL:negativ @AFO-ID:A_20756
  Szenario: Der Versicherte erhält das E-Rezept einer Prüfkarte eGK auch mit AccessCode nicht
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Erika Mustermann" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" versucht, das letzte E-Rezept von "Erika Mustermann" mit dessen AccessCode abzurufen
    Dann lehnt der Fachdienst den Zugriff der App mit HTTP-Status 400 und dem Text "KVNR verification identities may not access information from insurants and vice versa" ab
