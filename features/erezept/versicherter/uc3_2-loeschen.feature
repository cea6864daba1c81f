# language: de
@UC:UC_3.2 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: UC 3.2 – E-Rezept durch Versicherten löschen
  Der Versicherte löscht ein E-Rezept in der E-Rezept-App ($abort). Danach ist es gelöscht (410).
  Ein E-Rezept, das eine Apotheke gerade beliefert (in-progress), und das E-Rezept eines anderen
  Versicherten ohne dessen AccessCode kann er nicht löschen.

  @TCID:ERP_UC32_001 @TESTFALL:positiv @AFO-ID:A_18507 @AFO-ID:A_18565 @AFO-ID:A_18497 @AFO-ID:A_18526 @AFO-ID:A_18510 @AFO-ID:A_18871
  Szenario: Der Versicherte löscht sein E-Rezept, danach ist es nicht mehr abrufbar
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept in der App löscht
    Dann ist das letzte E-Rezept von "Jonas Keller" gelöscht und kann nicht mehr abgerufen werden
    Wenn "Jonas Keller" das Zugriffsprotokoll nach Löschungen gefiltert abruft
    Dann enthält das gefilterte Zugriffsprotokoll von "Jonas Keller" nur die Löschung des E-Rezepts

  @TCID:ERP_UC32_002 @TESTFALL:negativ @AFO-ID:A_18565
  Szenario: Ein E-Rezept, das die Apotheke abgerufen hat, kann der Versicherte nicht löschen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und die "Apotheke am Markt" hat das letzte E-Rezept von "Jonas Keller" abgerufen
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept in der App löscht
    Dann lehnt der Fachdienst den Zugriff der App mit HTTP-Status 403 und dem Text "Task must not be in progress for users other than pharmacy, but is: in-progress" ab

  @TCID:ERP_UC32_003 @TESTFALL:negativ @AFO-ID:A_18565 @AFO-ID:A_20557
  Szenario: Das E-Rezept eines anderen Versicherten kann der Versicherte ohne AccessCode nicht löschen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Anna Richter" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" versucht, das letzte E-Rezept von "Anna Richter" ohne AccessCode zu löschen
    Dann lehnt der Fachdienst den Zugriff der App mit HTTP-Status 403 und dem Text "AccessCode mismatch" ab
