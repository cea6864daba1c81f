# language: de
@UC:UC_5.2 @PRODUKT:IDP @PRODUKT:Konnektor
Funktionalität: UC 5.2 – AuthN-Token durch Leistungserbringerinstitution anfordern
  Das Primärsystem (PVS oder AVS) fordert über das Authentisierungsmodul einen AuthN-Token beim IDP an. Das
  Authentisierungsmodul liest das AUT-Zertifikat der SMC-B über ReadCardCertificate des Konnektors und lässt die
  Challenge des IDP über ExternalAuthenticate (I_Sign_Operations::external_authenticate) von der SMC-B signieren.
  Das Primärsystem löst den AuthN-Code am Token-Endpunkt ein und hält den AuthN-Token bis kurz vor Ablauf vor.

  @TCID:ERP_UC52_001 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @PRODUKT:PVS
  @AFO-ID:A_18827 @AFO-ID:A_18817 @AFO-ID:A_18816 @AFO-ID:A_18799 @AFO-ID:A_18887 @AFO-ID:A_19011 @AFO-ID:A_18808 @AFO-ID:A_18801
  Szenario: Die Arztpraxis erhält über die SMC-B am Konnektor einen AuthN-Token
    Angenommen das PVS der "Praxis Dr. Hanna Ebert" nutzt das Authentisierungsmodul mit der SMC-B am Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1"
    Wenn das PVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Dann hat das Authentisierungsmodul das AUT-Zertifikat der SMC-B mit ReadCardCertificate gelesen und die Challenge mit ExternalAuthenticate signieren lassen
    Und hat das PVS den AuthN-Code am Token-Endpunkt gegen einen AuthN-Token eingelöst
    Und enthält der AuthN-Token die Identitätsattribute aus dem AUT-Zertifikat der SMC-B von "Praxis Dr. Hanna Ebert"

  @TCID:ERP_UC52_002 @TESTFALL:positiv @Hauptdarsteller:Apotheke @PRODUKT:AVS @simulator-only
  @AFO-ID:A_18827 @AFO-ID:A_18817 @AFO-ID:A_18816 @AFO-ID:A_19011 @AFO-ID:A_18808 @AFO-ID:A_18801
  Szenario: Die Apotheke erhält über die SMC-B am Konnektor einen AuthN-Token
    Angenommen die SMC-B von "Apotheke am Markt" steckt in einem freien Kartenleser der Apotheke
    Und das AVS der "Apotheke am Markt" nutzt das Authentisierungsmodul mit der SMC-B am Konnektor im Aufrufkontext "Apotheke-am-Markt" / "AVS-SIM" / "Apotheke-HV-1"
    Wenn das AVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Apotheke einwilligt
    Dann hat das Authentisierungsmodul das AUT-Zertifikat der SMC-B mit ReadCardCertificate gelesen und die Challenge mit ExternalAuthenticate signieren lassen
    Und hat das AVS den AuthN-Code am Token-Endpunkt gegen einen AuthN-Token eingelöst
    Und enthält der AuthN-Token die Identitätsattribute aus dem AUT-Zertifikat der SMC-B von "Apotheke am Markt"

  @TCID:ERP_UC52_003 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @simulator-only @AFO-ID:A_18827 @AFO-ID:A_18860
  Szenario: Das PVS nutzt seinen AuthN-Token bis kurz vor Ablauf und fordert dann einen neuen an
    Angenommen das PVS der "Praxis Dr. Hanna Ebert" nutzt das Authentisierungsmodul mit der SMC-B am Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1"
    Und das PVS hat bereits einen AuthN-Token für den Scope "e-rezept" erhalten
    Wenn das PVS nach 60 Sekunden wieder einen AuthN-Token braucht
    Dann verwendet das PVS den vorhandenen AuthN-Token weiter
    Wenn das PVS nach weiteren 200 Sekunden wieder einen AuthN-Token braucht
    Dann hat das PVS vor Ablauf des alten einen neuen AuthN-Token angefordert

  @TCID:ERP_UC52_004 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @simulator-only @AFO-ID:A_18819 @AFO-ID:A_18801
  Szenario: Mit gesperrtem AUT-Zertifikat der SMC-B stellt der IDP keinen AuthN-Token aus
    Angenommen die SMC-B von "Praxis am Bahnhof" steckt in einem freien Kartenleser am Arbeitsplatz
    Und das PVS der "Praxis am Bahnhof" nutzt das Authentisierungsmodul mit der SMC-B am Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1"
    Wenn das PVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Dann lehnt der IDP die signierte Challenge mit dem Fehlercode 2020 ab
    Und hat der IDP das AUT-Zertifikat der SMC-B bei der TI-PKI per OCSP geprüft

  @TCID:ERP_UC52_005 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @AFO-ID:A_18817
  Szenario: Mit einer eGK statt der SMC-B kommt keine Authentisierung der Praxis zustande
    Angenommen das PVS der "Praxis Dr. Hanna Ebert" nutzt das Authentisierungsmodul mit der Karte von "Jonas Keller" am Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1"
    Wenn das PVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Dann meldet das Authentisierungsmodul, dass die Karte keine SMC-B ist, und das PVS erhält keinen AuthN-Token
