# language: de
@PRODUKT:eRp_FD @PRODUKT:AVS @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: Referenzumgebung – allgemeine Szenarien (Abgabe und zeitnahe Bereitstellung von Dispensierinformationen)
  gematiks E2E-Szenarien "Allgemein" (../shared/reference/ru-dumps/Allgemein), nachgespielt mit "Dr. Hanna Ebert",
  "Jonas Keller" und der "Apotheke am Markt". Die zeitnahe Bereitstellung ($dispense vor $close) und $close ohne
  Dispensierinformationen prüfen wir mit den Texten und Status der Aufzeichnung. Die Abrufe der Versicherten
  (GET /Task, GET /MedicationDispense im FdV) – bei der Bereitstellung das, was die Versicherte sieht – kommen
  mit der Versicherten-Schnittstelle und fehlen hier.

  @RU-Dump:Allgemein/e_rezept_verschreiben__via_dmc_zuweisen_und_erfolgreich_dispensieren @Workflow:160
  @TCID:ERP_RU_025 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: E-Rezept verschreiben, via DMC zuweisen und erfolgreich dispensieren
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18559, A_18562)

  @RU-Dump:Allgemein/bereitgestellte_dispensierinformationen_beim_abschluss_des_workflows_überschreiben_vorherige_bereitgestellte_dispensierinformationen @Workflow:160
  @TCID:ERP_RU_026 @TESTFALL:positiv @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Bereitgestellte Dispensierinformationen beim Abschluss des Workflows überschreiben vorherige bereitgestellte Dispensierinformationen
    Was die Versicherte danach abruft (Schritte 013, 014), kommt mit der Versicherten-Schnittstelle.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Und die Apotheke "Apotheke am Markt" schließt den Workflow mit geänderten Dispensierinformationen ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010, 012; A_18559, A_18562)

  @RU-Dump:Allgemein/mehrfache_zeitnahe_bereitstellung_von_dispensierinformationen_für_das_fdv @Workflow:160
  @TCID:ERP_RU_027 @TESTFALL:positiv @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Mehrfache zeitnahe Bereitstellung von Dispensierinformationen für das FdV
    Der Abruf der Versicherten (Schritt 013) kommt mit der Versicherten-Schnittstelle. Den Abschluss (Schritt 014)
    sendet die Apotheke ohne Dispensierinformationen: es gelten die zuletzt bereitgestellten.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010, 012; A_18559, A_18562)
    Wenn die Apotheke "Apotheke am Markt" schließt den Workflow ohne Dispensierinformationen ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 014; A_18562)

  @RU-Dump:Allgemein/zeitnahe_bereitstellung_von_dispensierinformationen_erst_nach_akzeptieren_des_e_rezepts_möglich @Workflow:160
  @TCID:ERP_RU_028 @TESTFALL:negativ @UC:UC_4.4 @AFO-ID:A_18562 @AFO-ID:A_18524
  Szenario: Zeitnahe Bereitstellung von Dispensierinformationen erst nach akzeptieren des E-Rezepts möglich
    Der Abruf der Versicherten (Schritt 007) kommt mit der Versicherten-Schnittstelle.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" versucht, für das nicht akzeptierte E-Rezept Dispensierinformationen bereitzustellen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18562, A_18524)

  @RU-Dump:Allgemein/zeitnahe_bereitstellung_von_dispensierinformationen_werden_vergessen_einzustellen__sodass_der_patient_keine_informationen_zur_verfügung_hat @Workflow:160
  @TCID:ERP_RU_029 @TESTFALL:negativ @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Zeitnahe Bereitstellung von Dispensierinformationen werden Vergessen einzustellen, sodass der Patient keine informationen zur verfügung hat
    Der Abruf der Versicherten (Schritt 007) kommt mit der Versicherten-Schnittstelle.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" schließt den Workflow ohne Dispensierinformationen ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 009; A_18559, A_18562)

  @RU-Dump:Allgemein/zeitnahe_bereitstellung_von_dispensierinformationen_werden_zurückgezogen__wenn_das_e_rezept_wieder_freigegeben_wurde @Workflow:160
  @TCID:ERP_RU_030 @TESTFALL:positiv @UC:UC_4.1 @UC:UC_4.2 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_18561
  Szenario: Zeitnahe Bereitstellung von Dispensierinformationen werden zurückgezogen, wenn das E-Rezept wieder freigegeben wurde
    Dass die Versicherte danach keine Dispensierinformation mehr sieht (Schritt 011), prüft die Versicherten-Schnittstelle;
    die Rückgabe (204) hält die Aufzeichnung nicht fest.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" stellt die Dispensierinformationen zeitnah bereit
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010; A_18559, A_18562)
    Wenn die Apotheke "Apotheke am Markt" gibt das E-Rezept an den Fachdienst zurück
    Dann hat der Fachdienst die Rückgabe ohne Inhalt bestätigt
