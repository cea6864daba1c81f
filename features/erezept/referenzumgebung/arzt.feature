# language: de
@PRODUKT:eRp_FD @PRODUKT:PVS @Hauptdarsteller:Arztpraxis @simulator-only
Funktionalität: Referenzumgebung – Szenarien des Arztes (Verordnungstypen und Versicherungsverhältnisse)
  gematiks E2E-Szenarien "Arzt" (../shared/reference/ru-dumps/Arzt): PKV-Verordnungen (Workflow 200) und
  Direktzuweisungen (Workflow 209) vom Einstellen bis zur Quittung, nachgespielt mit "Dr. Hanna Ebert", dem
  PKV-Versicherten "Dr. Friedrich Hoffmann" und der "Apotheke am Markt". Aufgezeichnet ist in beiden Dumps je
  eine Variante der Szenario-Tabelle; die Wirkstoffverordnung der Aufzeichnung ersetzt unser PVS durch eine
  PZN-Verordnung (der Fachdienst prüft die Verordnungsart nicht anders).

  @RU-Dump:Arzt/einstellen_des_e_rezeptes_direktzuweisung_mit_verschiedenen_verordnungstypen_und_versicherungsverhältnissen @Workflow:209
  @TCID:ERP_RU_023 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Einstellen des E-Rezeptes Direktzuweisung mit verschiedenen Verordnungstypen und Versicherungsverhältnissen
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Dr. Friedrich Hoffmann" ein apothekenpflichtiges Medikament und weist es der "Apotheke am Markt" direkt zu
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18559, A_18562)

  @RU-Dump:Arzt/einstellen_eines_apothekenpflichtigen_e_rezeptes_mit_verschiedenen_verordnungstypen_und_versicherungsverhältnissen @Workflow:200
  @TCID:ERP_RU_024 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Einstellen eines Apothekenpflichtigen E-Rezeptes mit verschiedenen Verordnungstypen und Versicherungsverhältnissen
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Dr. Friedrich Hoffmann" ein apothekenpflichtiges Medikament
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Und "Dr. Friedrich Hoffmann" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18559, A_18562)
