# language: de
@PRODUKT:eRp_FD @PRODUKT:AVS @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: Referenzumgebung – allgemeine Szenarien (Abgabe und zeitnahe Bereitstellung von Dispensierinformationen)
  gematiks E2E-Szenarien "Allgemein" (../shared/reference/ru-dumps/Allgemein), nachgespielt mit "Dr. Hanna Ebert",
  "Jonas Keller" und der "Apotheke am Markt". Die zeitnahe Bereitstellung ($dispense vor $close) und $close ohne
  Dispensierinformationen prüfen wir mit den Texten und Status der Aufzeichnung. Was die Versicherte sieht
  (GET /Task/<id>, GET /MedicationDispense), liest ihre E-Rezept-App mit der eGK über ihren VAU-Kanal: verglichen
  werden Status und Einträge des Bundles mit der Aufzeichnung und die Dispensierinformation mit dem, was die
  Apotheke zuletzt bereitgestellt hat (jede zeitnahe Bereitstellung trägt ihre eigene Charge).

  @RU-Dump:Allgemein/e_rezept_verschreiben__via_dmc_zuweisen_und_erfolgreich_dispensieren @Workflow:160
  @TCID:ERP_RU_025 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_19140
  Szenario: E-Rezept verschreiben, via DMC zuweisen und erfolgreich dispensieren
    Was die Versicherte erhalten hat ("genau 1 Medikament"), hält die Aufzeichnung ohne Antwort fest: die App liest
    die Dispensierinformation und findet genau das abgegebene Medikament.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18559, A_18562)
    Und hat "Jonas Keller" von der "Apotheke am Markt" genau 1 Medikament erhalten

  @RU-Dump:Allgemein/bereitgestellte_dispensierinformationen_beim_abschluss_des_workflows_überschreiben_vorherige_bereitgestellte_dispensierinformationen @Workflow:160
  @TCID:ERP_RU_026 @TESTFALL:positiv @UC:UC_3.1 @UC:UC_4.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_18506 @AFO-ID:A_18868 @AFO-ID:A_19140
  Szenario: Bereitgestellte Dispensierinformationen beim Abschluss des Workflows überschreiben vorherige bereitgestellte Dispensierinformationen
    Die Versicherte ruft die Dispensierinformation zweimal ab wie aufgezeichnet (Schritte 013, 014); sie sieht nur
    die beim Abschluss geänderte (Normgröße N2, Charge RU-CH-0815), nicht die zeitnah bereitgestellte.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Und die Apotheke "Apotheke am Markt" schließt den Workflow mit geänderten Dispensierinformationen ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010, 012; A_18559, A_18562)
    Wenn "Jonas Keller" ruft die Dispensierinformationen zu dem E-Rezept in der App ab
    Und "Jonas Keller" ruft die Dispensierinformationen zu dem E-Rezept in der App ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 013, 014; A_19140)
    Und kann "Jonas Keller" genau die letzte bereitgestellte Dispensierinformation der "Apotheke am Markt" zu dem E-Rezept abrufen

  @RU-Dump:Allgemein/mehrfache_zeitnahe_bereitstellung_von_dispensierinformationen_für_das_fdv @Workflow:160
  @TCID:ERP_RU_027 @TESTFALL:positiv @UC:UC_3.1 @UC:UC_4.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_18506 @AFO-ID:A_18868 @AFO-ID:A_19140
  Szenario: Mehrfache zeitnahe Bereitstellung von Dispensierinformationen für das FdV
    Die Versicherte sieht nach zwei Bereitstellungen nur die zweite (Schritt 013, Charge RU-ZB-2). Den Abschluss
    (Schritt 014) sendet die Apotheke ohne Dispensierinformationen: es gelten die zuletzt bereitgestellten.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010, 012; A_18559, A_18562)
    Wenn "Jonas Keller" ruft die Dispensierinformationen zu dem E-Rezept in der App ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 013; A_19140)
    Und kann "Jonas Keller" genau die letzte bereitgestellte Dispensierinformation der "Apotheke am Markt" zu dem E-Rezept abrufen
    Wenn die Apotheke "Apotheke am Markt" schließt den Workflow ohne Dispensierinformationen ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 014; A_18562)

  @RU-Dump:Allgemein/zeitnahe_bereitstellung_von_dispensierinformationen_erst_nach_akzeptieren_des_e_rezepts_möglich @Workflow:160
  @TCID:ERP_RU_028 @TESTFALL:negativ @UC:UC_3.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18562 @AFO-ID:A_18524 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Zeitnahe Bereitstellung von Dispensierinformationen erst nach akzeptieren des E-Rezepts möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" versucht, für das nicht akzeptierte E-Rezept Dispensierinformationen bereitzustellen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18562, A_18524)

  @RU-Dump:Allgemein/zeitnahe_bereitstellung_von_dispensierinformationen_werden_vergessen_einzustellen__sodass_der_patient_keine_informationen_zur_verfügung_hat @Workflow:160
  @TCID:ERP_RU_029 @TESTFALL:negativ @UC:UC_3.1 @UC:UC_4.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Zeitnahe Bereitstellung von Dispensierinformationen werden Vergessen einzustellen, sodass der Patient keine informationen zur verfügung hat
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" schließt den Workflow ohne Dispensierinformationen ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 009; A_18559, A_18562)

  @RU-Dump:Allgemein/zeitnahe_bereitstellung_von_dispensierinformationen_werden_zurückgezogen__wenn_das_e_rezept_wieder_freigegeben_wurde @Workflow:160
  @TCID:ERP_RU_030 @TESTFALL:positiv @UC:UC_3.1 @UC:UC_4.1 @UC:UC_4.2 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_18561 @AFO-ID:A_18506 @AFO-ID:A_18868 @AFO-ID:A_19140
  Szenario: Zeitnahe Bereitstellung von Dispensierinformationen werden zurückgezogen, wenn das E-Rezept wieder freigegeben wurde
    Die Rückgabe (204) hält die Aufzeichnung nicht fest; danach sieht die Versicherte keine Dispensierinformation
    mehr (Schritt 011: leeres searchset).
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010; A_18559, A_18562)
    Wenn die Apotheke "Apotheke am Markt" gibt das E-Rezept an den Fachdienst zurück
    Dann hat der Fachdienst die Rückgabe ohne Inhalt bestätigt
    Wenn "Jonas Keller" ruft die Dispensierinformationen zu dem E-Rezept in der App ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 011; A_19140)
    Und kann "Jonas Keller" keine Dispensierinformation zu dem E-Rezept mehr abrufen
