# language: de
@UC:none @PRODUKT:AVS @PRODUKT:eRp_FD @PRODUKT:FdV @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: AVS importiert E-Rezept-Token aus Drittanwendungen (A_18549)
  Das AVS bietet den Import von E-Rezept-Token aus Drittanwendungen an: es liest die Token-Datei,
  die die E-Rezept-App exportiert (A_18537, Format in docs/fdv.md), und ruft die importierten
  E-Rezepte mit ihrem AccessCode beim Fachdienst ab. Eine verfälschte Datei weist es ab, ohne
  etwas daraus zu übernehmen.

  @TCID:ERP_IF_004 @TESTFALL:positiv @AFO-ID:A_18549
  Szenario: Das AVS importiert die Token-Datei der E-Rezept-App und ruft die E-Rezepte ab
    Angenommen die Schnittstellennutzung wird ab jetzt an Fachdienst und Konnektor ausgewertet
    Und das PVS der "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 2 E-Rezepte für "Jonas Keller" ausgestellt
    Und "Jonas Keller" die E-Rezepte in der E-Rezept-App als Token-Datei exportiert
    Wenn das AVS der "Apotheke am Markt" die Token-Datei importiert
    Und das AVS die importierten E-Rezepte abruft
    Dann hält das AVS die importierten E-Rezepte im Status "in-progress" mit dem Secret des Fachdienstes

  @TCID:ERP_IF_005 @TESTFALL:negativ @AFO-ID:A_18549
  Szenario: Eine verfälschte Token-Datei importiert das AVS nicht
    Angenommen die Schnittstellennutzung wird ab jetzt an Fachdienst und Konnektor ausgewertet
    Und das PVS der "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt
    Und "Jonas Keller" die E-Rezepte in der E-Rezept-App als Token-Datei exportiert
    Und die Token-Datei unterwegs verändert wird
    Wenn das AVS der "Apotheke am Markt" die Token-Datei importiert
    Dann weist das AVS die Token-Datei ab, übernimmt kein E-Rezept daraus und ruft keines beim Fachdienst ab
