# language: de
@UC:none @PRODUKT:eRp_FD
Funktionalität: E-Rezept-Fachdienst – Zugang nur mit AuthN-Token, Rollen und qualifizierte Fehlermeldungen
  Jeder Aufruf des Fachdienstes geht durch die VAU und trägt den AuthN-Token des IDP. Der Fachdienst
  authentifiziert nur mit einem gültigen, vom IDP signierten Token, prüft die Rolle (professionOID)
  gegen TAB_SYSLERP_040 und beantwortet ungültige Aufrufparameter mit einer OperationOutcome, ohne
  etwas anzulegen.

  @TCID:ERP_FD_001 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18793 @AFO-ID:A_18889 @AFO-ID:A_18794
  Szenario: Mit dem AuthN-Token des IDP erhält die Praxis Zugang zum Fachdienst
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Wenn das Primärsystem mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann legt der Fachdienst den Task mit 201 und einer gültigen E-Rezept-ID an
    Wenn das Primärsystem mit dem AuthN-Token das CapabilityStatement des Fachdienstes abruft
    Dann liefert der Fachdienst das CapabilityStatement mit 200

  @TCID:ERP_FD_002 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18793 @AFO-ID:A_18794
  Szenario: Ohne AuthN-Token verweigert der Fachdienst den Zugang
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Wenn das Primärsystem ohne AuthN-Token (Platzhalter statt JWT) eine E-Rezept-ID des Workflows "160" anfordert
    Dann weist der Fachdienst den Aufruf mit 401 und der OperationOutcome "JWT has invalid format" ab
    Und fordert der Fachdienst im Kopf WWW-Authenticate zur Anmeldung mit gültigem Token auf

  @TCID:ERP_FD_003 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18793 @AFO-ID:A_18889 @AFO-ID:A_18839 @AFO-ID:A_18794
  Szenario: Einen Token mit denselben Claims, aber nicht vom IDP signiert, weist der Fachdienst ab
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Wenn das Primärsystem mit einem von fremdem Schlüssel signierten Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann weist der Fachdienst den Aufruf mit 401 und der OperationOutcome "JWT has invalid signature" ab
    Und fordert der Fachdienst im Kopf WWW-Authenticate zur Anmeldung mit gültigem Token auf

  @TCID:ERP_FD_004 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only
  @AFO-ID:A_18839
  Szenario: Einen abgelaufenen AuthN-Token weist der Fachdienst ab
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Und das Primärsystem hat mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" erhalten
    Wenn die Uhren von Fachdienst und IDP um 3600 Sekunden vorgestellt werden
    Und das Primärsystem mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann weist der Fachdienst den Aufruf mit 401 und der OperationOutcome "JWT expired" ab
    Und fordert der Fachdienst im Kopf WWW-Authenticate zur Anmeldung mit gültigem Token auf

  @TCID:ERP_FD_005 @TESTFALL:negativ @Hauptdarsteller:Apotheke @simulator-only
  @AFO-ID:A_18739 @AFO-ID:A_18569
  Szenario: Eine Apotheke darf keine E-Rezept-ID abrufen
    Angenommen die Apotheke "Apotheke am Markt" ist mit ihrer SMC-B beim IDP angemeldet
    Wenn das Primärsystem mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann weist der Fachdienst den Aufruf mit 403 und der OperationOutcome "endpoint is forbidden for professionOID 1.2.276.0.76.4.54" ab

  @TCID:ERP_FD_006 @TESTFALL:negativ @Hauptdarsteller:Versicherter
  @AFO-ID:A_18739 @AFO-ID:A_18569
  Szenario: Ein Versicherter darf keine E-Rezept-ID abrufen
    Angenommen "Jonas Keller" ist im FdV mit seiner eGK beim IDP angemeldet
    Wenn das FdV mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann weist der Fachdienst den Aufruf mit 403 und der OperationOutcome "endpoint is forbidden for professionOID 1.2.276.0.76.4.49" ab

  @TCID:ERP_FD_007 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18496 @AFO-ID:A_18498
  Szenario: Zwei Parameter workflowType sind inkonsistent und legen nichts an
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Und das Primärsystem hat mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" erhalten
    Wenn das Primärsystem eine E-Rezept-ID mit zwei Parametern workflowType "160" und "169" anfordert
    Dann weist der Fachdienst den Aufruf mit 400 und der OperationOutcome "unexpected number of parameters" ab
    Und hat der Fachdienst dabei keinen Task angelegt: die nächste E-Rezept-ID folgt unmittelbar auf die vorige

  @TCID:ERP_FD_008 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18496 @AFO-ID:A_18498
  Szenario: Ein unbekannter Workflow ist ungültig und legt nichts an
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Und das Primärsystem hat mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" erhalten
    Wenn das Primärsystem mit dem AuthN-Token eine E-Rezept-ID des Workflows "999" anfordert
    Dann weist der Fachdienst den Aufruf mit 400 und der OperationOutcome "Invalid workFlowType in incoming parameters" ab
    Und hat der Fachdienst dabei keinen Task angelegt: die nächste E-Rezept-ID folgt unmittelbar auf die vorige

  @TCID:ERP_FD_009 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18496
  Szenario: Ein nicht wohlgeformtes XML-Dokument wird mit einer OperationOutcome abgewiesen
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Und das Primärsystem hat mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" erhalten
    Wenn das Primärsystem eine E-Rezept-ID mit einem nicht wohlgeformten XML-Dokument anfordert
    Dann weist der Fachdienst den Aufruf mit 400 und der OperationOutcome "error parsing request body" ab
    Und hat der Fachdienst dabei keinen Task angelegt: die nächste E-Rezept-ID folgt unmittelbar auf die vorige

  @TCID:ERP_FD_010 @TESTFALL:positiv @Hauptdarsteller:Apotheke @PRODUKT:AVS @simulator-only
  @AFO-ID:A_18524
  Szenario: Jede Annahme durch die Apotheke erhält ein eigenes Secret hoher Entropie
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und die Ärztin hat für "Jonas Keller" 1 Arzneimittel verordnet
    Und die Apotheke "Apotheke am Markt" hat das E-Rezept angenommen
    Dann erhält die Apotheke beim Annehmen ein Secret aus 32 Zufallsbytes in 64 Hexadezimalzeichen
    Wenn die Apotheke "Apotheke am Markt" das E-Rezept zurückgibt und erneut annimmt
    Dann erhält die Apotheke beim erneuten Annehmen ein neues, anderes Secret

  @TCID:ERP_FD_ACR_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only
  @AFO-ID:A_18923 @AFO-ID:A_18839
  Szenario: Einen AuthN-Token mit dem Vertrauensniveau "substantiell" weist der Fachdienst ab
    Angenommen der IDP stellt AuthN-Token mit dem Vertrauensniveau "gematik-ehealth-loa-substantial" aus
    Und die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Und der AuthN-Token trägt das Vertrauensniveau "gematik-ehealth-loa-substantial"
    Wenn das Primärsystem mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann weist der Fachdienst den Aufruf mit 401 und der OperationOutcome "JWT has invalid format" ab
    Und fordert der Fachdienst im Kopf WWW-Authenticate zur Anmeldung mit gültigem Token auf

  @TCID:ERP_FD_ACR_002 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis
  @AFO-ID:A_18923
  Szenario: Einen AuthN-Token mit dem Vertrauensniveau "hoch" nimmt der Fachdienst an
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" ist mit ihrer SMC-B beim IDP angemeldet
    Und der AuthN-Token trägt das Vertrauensniveau "gematik-ehealth-loa-high"
    Wenn das Primärsystem mit dem AuthN-Token eine E-Rezept-ID des Workflows "160" anfordert
    Dann nimmt der Fachdienst den AuthN-Token mit dem Vertrauensniveau "gematik-ehealth-loa-high" an
