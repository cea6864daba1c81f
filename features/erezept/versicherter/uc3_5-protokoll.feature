# language: de
@UC:UC_3.5 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: UC 3.5 – Protokolldaten abrufen
  Der Versicherte ruft in der E-Rezept-App die Einträge des Zugriffsprotokolls ab (GET /AuditEvent,
  seitenweise, neueste zuerst, Text in der Sprache der App). Jeder Zugriff auf seine E-Rezepte ist
  mit Zeit, Art, Name und Kennung des Zugreifenden protokolliert — auch der eines Vertreters.

  @TCID:ERP_UC35_001 @TESTFALL:positiv @AFO-ID:A_18510 @AFO-ID:A_18871 @AFO-ID:A_18573 @AFO-ID:A_18497 @AFO-ID:A_18526
  Szenario: Das Zugriffsprotokoll zeigt Einstellen und Abrufen des E-Rezepts
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 2 E-Rezepte ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" in der App alle E-Rezepte seitenweise zu je 5 abruft
    Wenn "Jonas Keller" das Zugriffsprotokoll in der App auf Englisch abruft
    Dann enthält das Zugriffsprotokoll von "Jonas Keller" die Zugriffe auf das E-Rezept mit Zeit, Art und Name des Zugreifenden

  @TCID:ERP_UC35_002 @TESTFALL:positiv @AFO-ID:A_18497 @AFO-ID:A_18526
  Szenario: Der Zugriff eines Vertreters steht im Zugriffsprotokoll des Versicherten
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept als DataMatrix-Code an "Anna Richter" weitergegeben
    Wenn "Anna Richter" das weitergegebene E-Rezept als Vertreter abruft
    Dann nennt das Zugriffsprotokoll von "Jonas Keller" den Vertreter "Anna Richter" als Zugreifenden
