# language: de
@PRODUKT:eRp_FD @PRODUKT:FdV @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: Referenzumgebung – Szenarien des Versicherten
  gematiks E2E-Szenarien des Versicherten (../shared/reference/ru-dumps/Versicherter), soweit sie die
  Versicherten-Schnittstelle nutzen (GET /Task, GET /Task/<id>, $abort durch Versicherte und Vertreter,
  Nachrichten), nachgespielt mit unseren Personas: "Dr. Hanna Ebert" verordnet (statt Dr. Schraßer),
  "Jonas Keller" ist die Versicherte (statt Sina Hüllmann), "Anna Richter" der Vertreter (statt Günther
  Angermänn), "Claudia Neumann" die PKV-Versicherte, die "Apotheke am Markt" die Apotheke (statt Am Flughafen).
  Die App braucht die eGK nur für ihre Anmeldung am IDP; wo die Apotheke den letzten freien Slot ihres
  Arbeitsplatzes braucht (Slots 2 und 3, Slot 2 trägt die eGK von "Jonas Keller"), nimmt die PKV-Versicherte ihre
  eGK nach der Anmeldung wieder aus dem Kartenleser.
  Die App spricht über ihren VAU-Kanal mit dem Fachdienst; jede Antwort, die die Aufzeichnung festhält, wird
  mit Status und OperationOutcome-Texten gegen die Aufzeichnung geprüft (Schrittnummer = Nummer der Datei).

  Nicht nachgespielt:
  - löschen_der_pkv_abrechnungsinformationen_durch_den_versicherten, markieren_des_pkv_abgabedatensatzes_durch_versicherten,
    pkv_abrechnungsinformationen_löschen__wenn_die_einwilligung_vom_versicherten_widerrufen_wird: ChargeItem, Consent
    und PKV-Abrechnungsinformationen gehören nicht zu dieser Schnittstelle.

  @RU-Dump:Versicherter/abrufen_des_e_rezepts_als_vertreter @Workflow:160
  @TCID:ERP_RU_V_001 @TESTFALL:positiv @UC:UC_3.3 @UC:UC_3.4 @UC:UC_3.6 @AFO-ID:A_18868 @AFO-ID:A_18869 @AFO-ID:A_18870 @AFO-ID:A_18781 @AFO-ID:A_18564
  Szenario: Abrufen des E-Rezepts als Vertreter
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" sein letztes E-Rezept per Nachricht an den Vertreter "Anna Richter" schickt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18868, A_18869)
    Wenn "Anna Richter" ihre Nachrichten beim Fachdienst abfragt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritt 010; A_18870)
    Wenn "Jonas Keller" seine E-Rezepte in der App anzeigt
    Und der Vertreter "Anna Richter" das E-Rezept von "Jonas Keller" mit dem Token aus der Nachricht anzeigt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 011, 012; A_18868, A_18781, A_18564)

  @RU-Dump:Versicherter/anzeigen_von_direkt_zugewiesenen_e_rezepten @Workflow:169
  @TCID:ERP_RU_V_002 @TESTFALL:positiv @UC:UC_3.1 @AFO-ID:A_18868
  Szenario: Anzeigen von direkt zugewiesenen E-Rezepten
    Angenommen die Ärztin hat "Jonas Keller" ein E-Rezept ausgestellt und es der "Apotheke am Markt" direkt zugewiesen
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" seine E-Rezepte in der App anzeigt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18868)
    Und zeigt die App von "Jonas Keller" das direkt zugewiesene E-Rezept ohne AccessCode an

  @RU-Dump:Versicherter/e_rezept_als_direktzuweisung_verschreiben__anzeige_im_fdv__wf_209_ @Workflow:209
  @TCID:ERP_RU_V_003 @TESTFALL:positiv @UC:UC_3.1 @AFO-ID:A_18868
  Szenario: E-Rezept als Direktzuweisung verschreiben, Anzeige im FdV (WF 209)
    Angenommen die Ärztin hat "Claudia Neumann" ein E-Rezept ausgestellt und es der "Apotheke am Markt" direkt zugewiesen
    Und "Claudia Neumann" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Claudia Neumann" ihre E-Rezepte in der App anzeigt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18868)
    Und zeigt die App von "Claudia Neumann" das direkt zugewiesene E-Rezept ohne AccessCode an

  @RU-Dump:Versicherter/e_rezept_durch_versicherten_löschen @Workflow:160
  @TCID:ERP_RU_V_004 @TESTFALL:positiv @UC:UC_3.2 @AFO-ID:A_18565 @AFO-ID:A_18507
  Szenario: E-Rezept durch Versicherten löschen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" sein letztes E-Rezept in der App löscht und die Antwort festhält
    Dann bestätigt der Fachdienst das Löschen des E-Rezepts durch "Jonas Keller" ohne Inhalt
    Wenn die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" mit dem Token annimmt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18507)

  @RU-Dump:Versicherter/löschen_des_e_rezepts_als_vertreter_nur_mit_accesscode_möglich @Workflow:160
  @TCID:ERP_RU_V_005 @TESTFALL:negativ @UC:UC_3.2 @UC:UC_3.3 @AFO-ID:A_18565 @AFO-ID:A_18869 @AFO-ID:A_18870 @AFO-ID:A_18868
  Szenario: Löschen des E-Rezepts als Vertreter nur mit AccessCode möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" sein letztes E-Rezept per Nachricht an den Vertreter "Anna Richter" schickt
    Und "Anna Richter" ihre Nachrichten beim Fachdienst abfragt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009, 010; A_18868, A_18869, A_18870)
    Wenn der Vertreter "Anna Richter" das E-Rezept von "Jonas Keller" ohne AccessCode aus der Nachricht löscht
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritt 011; A_18565)
    Wenn der Vertreter "Anna Richter" das E-Rezept von "Jonas Keller" mit dem AccessCode aus der Nachricht löscht
    Dann bestätigt der Fachdienst das Löschen des E-Rezepts durch "Anna Richter" ohne Inhalt

  @RU-Dump:Versicherter/löschen_nicht_möglich_bis_nach_der_dispensierung @Workflow:209
  @TCID:ERP_RU_V_006 @TESTFALL:negativ @UC:UC_3.1 @UC:UC_3.2 @AFO-ID:A_18868 @AFO-ID:A_18565
  Szenario: Löschen nicht möglich bis nach der Dispensierung (WF 209)
    Angenommen die Ärztin hat "Claudia Neumann" ein E-Rezept ausgestellt und es der "Apotheke am Markt" direkt zugewiesen
    Und "Claudia Neumann" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Claudia Neumann" ihre E-Rezepte in der App anzeigt
    Und "Claudia Neumann" ihr letztes E-Rezept in der App löscht und die Antwort festhält
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 008; A_18868, A_18565)

  @RU-Dump:Versicherter/löschen_von_akzeptierten_e_rezepten_durch_den_versicherten_nicht_möglich @Workflow:160
  @TCID:ERP_RU_V_007 @TESTFALL:negativ @UC:UC_3.2 @AFO-ID:A_18565 @AFO-ID:A_18507
  Szenario: Löschen von akzeptierten E-Rezepten durch den Versicherten nicht möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" mit dem Token annimmt
    Und "Jonas Keller" sein letztes E-Rezept in der App löscht und die Antwort festhält
    Und die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" beliefert und den Workflow abschließt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 008, 010; A_18565, A_18507)

  @RU-Dump:Versicherter/löschen_von_eingelösten_e_rezepten_durch_den_versicherten_möglich @Workflow:160
  @TCID:ERP_RU_V_008 @TESTFALL:positiv @UC:UC_3.2 @AFO-ID:A_18565 @AFO-ID:A_18507
  Szenario: Löschen von eingelösten E-Rezepten durch den Versicherten möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" mit dem Token annimmt
    Und die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" beliefert und den Workflow abschließt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18507)
    Wenn "Jonas Keller" sein letztes E-Rezept in der App löscht und die Antwort festhält
    Dann bestätigt der Fachdienst das Löschen des E-Rezepts durch "Jonas Keller" ohne Inhalt
    Wenn "Jonas Keller" sein letztes E-Rezept in der App anzeigt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritt 010; A_18565)

  @RU-Dump:Versicherter/zuweisung_an_einen_vertreter_nicht_möglich_nach_dem_einlösen @Workflow:160
  @TCID:ERP_RU_V_009 @TESTFALL:negativ @UC:UC_3.3 @AFO-ID:A_18508 @AFO-ID:A_18851 @AFO-ID:A_18868
  Szenario: Zuweisung an einen Vertreter nicht möglich nach dem Einlösen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" mit dem Token annimmt
    Und die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" beliefert und den Workflow abschließt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18508)
    Wenn "Jonas Keller" sein letztes E-Rezept per Nachricht an den Vertreter "Anna Richter" schickt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 010, 012; A_18868, A_18508, A_18851)

  @RU-Dump:Versicherter/zuweisung_an_sich_selbst_nicht_möglich @Workflow:160
  @TCID:ERP_RU_V_010 @TESTFALL:negativ @UC:UC_3.3 @AFO-ID:A_18508 @AFO-ID:A_18851 @AFO-ID:A_18868
  Szenario: Zuweisung an sich selbst nicht möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" sein letztes E-Rezept per Nachricht an den Vertreter "Jonas Keller" schickt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18868, A_18508, A_18851)

  @RU-Dump:Versicherter/löschen_möglich_nach_der_dispensierung @Workflow:209
  @TCID:ERP_RU_V_011 @TESTFALL:positiv @UC:UC_3.1 @UC:UC_3.2 @AFO-ID:A_18507 @AFO-ID:A_18565 @AFO-ID:A_18868
  Szenario: Löschen möglich nach der Dispensierung (WF 209)
    Angenommen die Ärztin hat "Claudia Neumann" ein E-Rezept ausgestellt und es der "Apotheke am Markt" direkt zugewiesen
    Und "Claudia Neumann" hat sich mit der eGK in der E-Rezept-App angemeldet und die eGK wieder aus dem Kartenleser genommen
    Wenn die "Apotheke am Markt" das letzte E-Rezept von "Claudia Neumann" mit dem Token annimmt
    Und die "Apotheke am Markt" das letzte E-Rezept von "Claudia Neumann" beliefert und den Workflow abschließt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18507)
    Wenn "Claudia Neumann" ihr letztes E-Rezept in der App löscht und die Antwort festhält
    Dann bestätigt der Fachdienst das Löschen des E-Rezepts durch "Claudia Neumann" ohne Inhalt
    Wenn "Claudia Neumann" ihre E-Rezepte in der App anzeigt
    Und "Claudia Neumann" ihr letztes E-Rezept in der App anzeigt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 010, 011; A_18868, A_18565)
    Und listet die App von "Claudia Neumann" das gelöschte E-Rezept nicht mehr
