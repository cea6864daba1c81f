# language: de
@PRODUKT:eRp_FD @PRODUKT:PVS @Hauptdarsteller:Arztpraxis @simulator-only
Funktionalität: Referenzumgebung – Szenarien der Arztpraxis
  gematiks E2E-Szenarien der Arztpraxis (../shared/reference/ru-dumps/Arztpraxis), nachgespielt mit unseren
  Personas: "Dr. Hanna Ebert" verordnet in ihrer Praxis über PVS, Konnektor und HBA für "Jonas Keller" (GKV) und
  "Claudia Neumann" (PKV), die "Apotheke am Markt" löst über ihr AVS ein. Jede Antwort des Fachdienstes, die die
  Aufzeichnung festhält, wird mit Status und OperationOutcome-Texten gegen die Aufzeichnung geprüft
  (Schrittnummer = Nummer der aufgezeichneten Datei). Was die Versicherten in ihrer E-Rezept-App sehen ("… wird
  das neue E-Rezept angezeigt": GET /Task/<id>) liest die App mit der eGK über ihren VAU-Kanal; verglichen werden
  Status und die Einträge des Bundles (Task mit Status, signierte Verordnung) mit der Aufzeichnung.

  @RU-Dump:Arztpraxis/direktzuweisung_an_eine_apotheke_durch_den_arzt__wf_209_ @Workflow:209
  @TCID:ERP_RU_016 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Direktzuweisung an eine Apotheke durch den Arzt (WF 209)
    Schritt 010 wird nicht verglichen: eine JSON-Suche (searchset, total 0, ohne Einträge) des PKV-Versicherten
    (JSON = FdV-Client) im Dispensierschritt, deren Anfrage die Aufzeichnung nicht festhält. Eine Suche nach
    Dispensierinformationen (GET /MedicationDispense) kann es nicht sein: dieselbe Suche der GKV-Versicherten nach
    $close listet das eben abgegebene Medikament (Allgemein/bereitgestellte_…, Schritte 013, 014). Leer und nur bei
    PKV aufgezeichnet (auch in allen PKV-Abrechnungsszenarien der Apotheke, Schritt 011, dort vor dem POST
    /ChargeItem) passt sie zur Abfrage der PKV-Abrechnungsinformationen (GET /ChargeItem), die gemSysL_eRp 1.1.0
    nicht definiert.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Claudia Neumann" ein apothekenpflichtiges Medikament und weist es der "Apotheke am Markt" direkt zu
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18559, A_18562)

  @RU-Dump:Arztpraxis/e_rezept_durch_verordnenden_löschen @Workflow:160
  @TCID:ERP_RU_017 @TESTFALL:positiv @UC:UC_2.5 @UC:UC_4.1 @AFO-ID:A_18557 @AFO-ID:A_18952
  Szenario: E-Rezept durch Verordnenden löschen
    Das Löschen selbst (204) hält die Aufzeichnung nicht fest; aufgezeichnet ist die Antwort auf den späteren Abruf.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und die Ärztin "Dr. Hanna Ebert" löscht das E-Rezept
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18557, A_18952)

  @RU-Dump:Arztpraxis/löschen_des_e_rezepts_nicht_möglich__weil_durch_apotheke_reserviert @Workflow:160
  @TCID:ERP_RU_018 @TESTFALL:negativ @UC:UC_2.5 @UC:UC_3.1 @UC:UC_4.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18557 @AFO-ID:A_18522 @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Löschen des E-Rezepts nicht möglich, weil durch Apotheke reserviert
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Ärztin "Dr. Hanna Ebert" löscht das E-Rezept
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 008; A_18557, A_18522)
    Dann wird der Versicherten "Jonas Keller" das E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18506, A_18868)
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 011; A_18562)

  @RU-Dump:Arztpraxis/mehrfachverordnung_für_gkv_versicherte @Workflow:160
  @TCID:ERP_RU_019 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_3.1 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Mehrfachverordnung für GKV-Versicherte
    Wenn die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" folgende Mehrfachverordnung:
      | Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |
      | 4         | 4           | 270               | leer             |
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)

  @RU-Dump:Arztpraxis/mehrfachverordnung_für_pkv_versicherte @Workflow:200
  @TCID:ERP_RU_020 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_3.1 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Mehrfachverordnung für PKV-Versicherte
    Wenn die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Claudia Neumann" folgende Mehrfachverordnung:
      | Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |
      | 4         | 4           | 270               | 360              |
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Dann wird der Versicherten "Claudia Neumann" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)

  @RU-Dump:Arztpraxis/mehrfachverordnung_für_pkv_versicherte_als_direktzuweisung @Workflow:209
  @TCID:ERP_RU_021 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_3.1 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Mehrfachverordnung für PKV-Versicherte als Direktzuweisung
    Wenn die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Claudia Neumann" folgende Mehrfachverordnung und weist sie der "Apotheke am Markt" direkt zu:
      | Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |
      | 4         | 4           | 270               | leer             |
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Dann wird der Versicherten "Claudia Neumann" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)

  @RU-Dump:Arztpraxis/zusammenhängende_mehrfachverordnung_für_gkv_versicherte @Workflow:160
  @TCID:ERP_RU_022 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_3.1 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Zusammenhängende Mehrfachverordnung für GKV-Versicherte
    Vier Teilverordnungen mit derselben MVO-ID, jede mit eigenem $create und $activate wie aufgezeichnet; die
    Versicherte sieht danach die letzte Teilverordnung (Schritt 028).
    Wenn die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" folgende Mehrfachverordnung:
      | Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |
      | 1         | 4           | 0                 | leer             |
      | 2         | 4           | 90                | leer             |
      | 3         | 4           | 180               | leer             |
      | 4         | 4           | 270               | leer             |
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005, 008, 012, 015, 019, 022, 026; A_18556)
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 028; A_18506, A_18868)
