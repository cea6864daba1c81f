# language: de
@UC:none @PRODUKT:IDP
Funktionalität: IDP – Schnittstellen, Clients und Sicherheitsvorgaben
  Der IDP wird über seine echten Schnittstellen geprüft: das signierte Discovery Document, den
  Authorization-Endpunkt (Challenge, signierte Challenge, Einwilligung, SSO), den Token-Endpunkt und die
  Endpunkte für Abmeldung, Widerruf und Token-Prüfung. Die Challenge signiert die SMC-B der Praxis über den
  Konnektor; als Client tritt das PVS der Praxis auf (client_id "gematikTestPs").

  Grundlage:
    Angenommen das PVS der "Praxis Dr. Hanna Ebert" nutzt das Authentisierungsmodul mit der SMC-B am Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1"

  @TCID:IDP_DISC_001 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @AFO-ID:A_18797 @AFO-ID:A_18863 @AFO-ID:A_18815
  Szenario: Das Discovery Document ist vom IDP signiert und beschreibt einen OpenID Provider mit Authorization Code Flow
    Wenn das PVS das Discovery Document des IDP abruft
    Dann ist das Discovery Document ein mit "BP256R1" signiertes JWT mit dem Zertifikat des IDP aus der TI-PKI
    Und nennt das Discovery Document die OpenID-Connect-Endpunkte und ist 24 Stunden gültig
    Und bietet der IDP nur den Grant Type "authorization_code" mit PKCE "S256" an
    Und bietet der IDP nur die Authentisierung per Smartcard mit dem Vertrauensniveau "gematik-ehealth-loa-high" an

  @TCID:IDP_TLS_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:A_18862
  Szenario: Der IDP kommuniziert nur transportverschlüsselt
    Wenn ein Client den IDP ohne TLS anspricht
    Dann kommt keine Verbindung ohne TLS zustande
    Und nimmt der IDP TLS-Verbindungen nur mit TLS 1.2 oder höher an

  @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:A_18811 @AFO-ID:A_18805 @AFO-ID:A_18838 @AFO-ID:A_18812
  Szenariogrundriss: Der IDP lehnt Anfragen nicht registrierter oder falsch identifizierter Clients ab
    Wenn das PVS eine Challenge mit client_id "<client_id>" und redirect_uri "<redirect_uri>" anfordert
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode <Code>
    Und stellt der IDP keine Challenge aus

    @TCID:IDP_CLIENT_001
    Beispiele:
      | client_id       | redirect_uri                          | Code | Bedeutung                         |
      | unbekannterPs   | http://test-ps.gematik.de/erezept     | 2012 | Client nicht registriert          |
      |                 | http://test-ps.gematik.de/erezept     | 1002 | client_id fehlt                   |
      | gematikTestPs   | http://angreifer.example/erezept      | 1020 | redirect_uri nicht registriert    |
      | gematikTestPs   | http://test-ps.gematik.de/erezept/x   | 1020 | redirect_uri nicht exakt gleich   |

  @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:A_18864 @AFO-ID:A_18815
  Szenariogrundriss: Der IDP besteht auf PKCE, state und dem Authorization Code Flow
    Wenn das PVS eine Challenge anfordert, bei der <Abweichung>
    Dann lehnt der IDP die Anfrage mit dem Fehlercode <Code> ab und stellt keine Challenge aus

    @TCID:IDP_AUTHZ_001
    Beispiele:
      | Abweichung                                   | Code |
      | die code_challenge fehlt                     | 2009 |
      | die code_challenge_method "plain" ist        | 2008 |
      | der state fehlt                              | 2002 |
      | der response_type "token" ist                | 2005 |
      | der Scope "openid" allein ist                | 1022 |
      | der Scope "openid e-rezept pairing" ist      | 1030 |

  @TCID:IDP_TOKEN_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:A_18815 @AFO-ID:A_19011
  Szenario: Der Token-Endpunkt gibt Token nur gegen einen AuthN-Code heraus
    Wenn das PVS am Token-Endpunkt einen Token mit dem Grant Type "client_credentials" anfordert
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode 3014
    Wenn das PVS am Token-Endpunkt einen Token mit dem Grant Type "password" anfordert
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode 3014

  @TCID:IDP_TOKEN_002 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:A_19011 @AFO-ID:A_18864 @AFO-ID:A_18812
  Szenario: Ein AuthN-Code gilt nur einmal, nur für den Client und nur mit dem passenden code_verifier
    Wenn das PVS einen AuthN-Code für den Scope "e-rezept" erhält
    Und das PVS den AuthN-Code mit einem falschen code_verifier einlöst
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode 3000
    Wenn das PVS den AuthN-Code mit einer anderen client_id einlöst
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode 3007
    Wenn das PVS den AuthN-Code korrekt einlöst
    Dann erhält das PVS einen AuthN-Token
    Wenn das PVS denselben AuthN-Code ein zweites Mal einlöst
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode 3013

  @TCID:IDP_TIME_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18864 @AFO-ID:A_18914
  Szenario: Eine abgelaufene oder bereits verwendete Challenge nimmt der IDP nicht an
    Wenn das PVS eine Challenge für den Scope "e-rezept" anfordert und von der SMC-B signieren lässt
    Und 200 Sekunden vergangen sind
    Und das PVS die signierte Challenge an den IDP übergibt
    Dann lehnt der IDP die signierte Challenge mit dem Fehlercode 2032 ab
    Wenn das PVS eine Challenge für den Scope "e-rezept" anfordert und von der SMC-B signieren lässt
    Und das PVS die signierte Challenge an den IDP übergibt
    Und das PVS dieselbe signierte Challenge ein zweites Mal an den IDP übergibt
    Dann lehnt der IDP die signierte Challenge mit dem Fehlercode 2030 ab

  @TCID:IDP_TIME_002 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_19011 @AFO-ID:A_18860
  Szenario: Abgelaufene AuthN-Codes und AuthN-Token verlieren ihre Gültigkeit
    Wenn das PVS einen AuthN-Code für den Scope "e-rezept" erhält
    Und 61 Sekunden vergangen sind
    Und das PVS den AuthN-Code korrekt einlöst
    Dann antwortet der IDP mit HTTP 400 und dem Fehlercode 3011
    Wenn das PVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Und 301 Sekunden vergangen sind
    Dann bestätigt der IDP den AuthN-Token bei der Token-Prüfung nicht mehr als gültig

  @TCID:IDP_CERT_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18799 @AFO-ID:A_18819
  Szenario: Eine mit dem QES-Zertifikat statt dem AUT-Zertifikat signierte Challenge lehnt der IDP ab
    Wenn das PVS eine Challenge für den Scope "e-rezept" mit einem nicht für die Authentisierung bestimmten Zertifikat signiert übergibt
    Dann lehnt der IDP die signierte Challenge mit dem Fehlercode 2020 ab

  @TCID:IDP_CERT_002 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18819 @AFO-ID:A_18801
  Szenario: Nach der Sperrung des AUT-Zertifikats in der TI-PKI stellt der IDP keinen AuthN-Token mehr aus
    Angenommen die SMC-B von "Praxis Dr. Miriam Voss" steckt in einem freien Kartenleser am Arbeitsplatz
    Und das PVS der "Praxis Dr. Miriam Voss" nutzt das Authentisierungsmodul mit der SMC-B am Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1"
    Und das PVS hat bereits einen AuthN-Token für den Scope "e-rezept" erhalten
    Wenn die TI-PKI das AUT-Zertifikat der SMC-B von "Praxis Dr. Miriam Voss" sperrt
    Und das PVS einen AuthN-Token mit erzwungener erneuter Anmeldung anfordert
    Dann lehnt der IDP die signierte Challenge mit dem Fehlercode 2020 ab

  @TCID:IDP_CONSENT_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18888 @AFO-ID:A_18915
  Szenario: Eine Einwilligung in andere als die angefragten Identitätsattribute nimmt der IDP nicht an
    Angenommen die Praxis hat dem PVS noch keine Einwilligung in ihre Identitätsattribute erteilt
    Wenn das PVS einen AuthN-Token anfordert und die Praxis nur in "idNummer" einwilligt
    Dann lehnt der IDP die Einwilligung mit dem Fehlercode 2042 ab

  @TCID:IDP_CLAIMS_001 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18856 @AFO-ID:A_18810
  Szenario: Der AuthN-Token enthält nicht mehr Identitätsmerkmale, als angefordert wurden
    Angenommen beim IDP ist ein Client "ti-harness-minimal" mit dem Scope "nur-id" registriert, der nur "idNummer" und "professionOID" anfordert
    Wenn das PVS als Client "ti-harness-minimal" einen AuthN-Token für den Scope "nur-id" anfordert und die Praxis einwilligt
    Dann enthält der AuthN-Token von den Identitätsattributen nur "idNummer" und "professionOID"

  @TCID:IDP_SUB_001 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18859 @AFO-ID:A_18810
  Szenario: Für verschiedene Clients trägt derselbe Nutzer verschiedene Pseudonyme
    Angenommen beim IDP ist ein Client "ti-harness-zweit-ps" mit dem Scope "e-rezept" registriert
    Wenn das PVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Und das PVS als Client "ti-harness-zweit-ps" einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Dann tragen beide AuthN-Token dieselbe Telematik-ID, aber verschiedene Pseudonyme "sub", die die Telematik-ID nicht enthalten

  @TCID:IDP_WEB_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:A_18803 @AFO-ID:A_18812
  Szenario: Ein Primärsystem als Web-Applikation muss sich am Token-Endpunkt mit seinem Geheimnis authentisieren
    Wenn das PVS als Web-Applikation "ti-harness-web-pvs" einen AuthN-Code erhält und ihn ohne sein Client-Geheimnis einlöst
    Dann antwortet der IDP am Token-Endpunkt mit einem Fehler und gibt keinen AuthN-Token heraus
    Wenn das PVS als Web-Applikation "ti-harness-web-pvs" einen AuthN-Code erhält und ihn mit seinem Client-Geheimnis einlöst
    Dann erhält das PVS einen AuthN-Token

  @TCID:IDP_LOGOUT_001 @TESTFALL:negativ @Hauptdarsteller:Versicherter @PRODUKT:FdV @AFO-ID:A_18858
  Szenario: Nach der Abmeldung sind SSO-Sitzung und AuthN-Token nicht mehr verwendbar
    Angenommen das FdV von "Jonas Keller" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Und das FdV hat bereits einen AuthN-Token für den Scope "e-rezept" erhalten
    Wenn der Versicherte sich beim IDP abmeldet
    Dann bestätigt der IDP den AuthN-Token bei der Token-Prüfung nicht mehr als gültig
    Und nimmt der IDP das SSO-Token der Sitzung nicht mehr an

  @TCID:IDP_REVOKE_001 @TESTFALL:negativ @Hauptdarsteller:Versicherter @PRODUKT:FdV @AFO-ID:A_18857
  Szenario: Der Versicherte erklärt einen AuthN-Token für ungültig
    Angenommen das FdV von "Jonas Keller" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Und das FdV hat bereits einen AuthN-Token für den Scope "e-rezept" erhalten
    Wenn der Versicherte den AuthN-Token beim IDP widerruft
    Dann bestätigt der IDP den AuthN-Token bei der Token-Prüfung nicht mehr als gültig

  @TCID:IDP_METRICS_001 @TESTFALL:positiv @Hauptdarsteller:Infrastruktur @simulator-only @AFO-ID:A_18993
  Szenario: Der IDP erhebt Performance-Messdaten getrennt nach Challenge-Response, Einwilligung und Token-Ausstellung
    Angenommen die Performance-Messdaten des IDP sind abgerufen
    Wenn das PVS einen AuthN-Token für den Scope "e-rezept" anfordert und die Praxis einwilligt
    Dann weisen die Performance-Messdaten des IDP einen weiteren Challenge-Response-Vorgang und eine weitere Token-Ausstellung für Leistungserbringer aus
    Und weisen die Performance-Messdaten des IDP die Antwortzeit des Authentisierungsmoduls bei der Einwilligung separat aus
    Und weisen die Performance-Messdaten des IDP die Token-Ausstellung für Versicherte getrennt von der für Leistungserbringer aus

  @TCID:IDP_CHANGE_001 @TESTFALL:positiv @Hauptdarsteller:Infrastruktur @simulator-only @AFO-ID:A_19016
  Szenario: Nach einem Produkt-Change verifiziert der Anbieter den IDP mit den Anwendungsfällen UC 5.1 und UC 5.2
    Angenommen die Produktversion des IDP ist bekannt
    Wenn sich die "Praxis Dr. Hanna Ebert" über ihr PVS im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1" und "Jonas Keller" über sein FdV nacheinander am IDP anmelden
    Dann sind beide Anwendungsfälle gegen diese Produktversion des IDP erfolgreich durchlaufen

  @TCID:IDP_CERT_003 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @simulator-only @AFO-ID:A_18799 @AFO-ID:A_18819
  Szenario: Eine mit einem abgelaufenen AUT-Zertifikat signierte Challenge lehnt der IDP ab
    Wenn das PVS eine Challenge für den Scope "e-rezept" mit einem abgelaufenen AUT-Zertifikat signiert übergibt
    Dann lehnt der IDP die signierte Challenge mit dem Fehlercode 2020 ab
