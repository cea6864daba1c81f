# language: de
@UC:UC_5.1 @PRODUKT:IDP @PRODUKT:FdV
Funktionalität: UC 5.1 – AuthN-Token durch Versicherten anfordern
  Das Frontend des Versicherten (FdV) fordert über das Authentisierungsmodul einen AuthN-Token beim IDP an.
  Das Authentisierungsmodul liest das AUT-Zertifikat der eGK über PC/SC (Kartenleser am Gerät des Versicherten),
  lässt die Challenge des IDP nach Eingabe der PIN.CH von der eGK signieren, holt die Einwilligung des
  Versicherten in die Identitätsattribute ein und gibt den AuthN-Code an das FdV, das ihn am Token-Endpunkt
  einlöst. Alle Endpunkte liest das FdV aus dem signierten Discovery Document des IDP.

  @TCID:ERP_UC51_001 @TESTFALL:positiv @Hauptdarsteller:Versicherter @simulator-only
  @AFO-ID:A_18822 @AFO-ID:A_18818 @AFO-ID:A_18816 @AFO-ID:A_18799 @AFO-ID:A_18914 @AFO-ID:A_18887 @AFO-ID:A_18865
  @AFO-ID:A_18915 @AFO-ID:A_18888 @AFO-ID:A_18917 @AFO-ID:A_19011 @AFO-ID:A_18808 @AFO-ID:A_18801 @AFO-ID:A_18819
  @AFO-ID:A_18863 @AFO-ID:A_18860 @AFO-ID:A_18797 @AFO-ID:A_18813 @AFO-ID:A_18814
  Szenario: Der Versicherte meldet sich zum ersten Mal mit seiner eGK an und willigt in die Identitätsattribute ein
    Angenommen "Jonas Keller" hat dem FdV noch keine Einwilligung in seine Identitätsattribute erteilt
    Und das FdV von "Jonas Keller" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Wenn das FdV einen AuthN-Token für den Scope "e-rezept" anfordert und der Versicherte einwilligt
    Dann hat das Authentisierungsmodul das AUT-Zertifikat der eGK gelesen und die Challenge nach PIN-Eingabe von der eGK signieren lassen
    Und hat der IDP die signierte Challenge geprüft und die Einwilligung in die angefragten Identitätsattribute verlangt
    Und hat das Authentisierungsmodul die Einwilligung eingeholt und an den IDP übergeben, der einen AuthN-Code ausgestellt hat
    Und hat der IDP das AUT-Zertifikat der eGK bei der TI-PKI per OCSP geprüft
    Und hat das FdV den AuthN-Code am Token-Endpunkt gegen einen AuthN-Token eingelöst
    Und enthält der AuthN-Token die Identitätsattribute aus dem AUT-Zertifikat der eGK von "Jonas Keller"
    Und trägt der AuthN-Token das Vertrauensniveau "gematik-ehealth-loa-high" aus einer Smartcard-Authentisierung
    Und ist der AuthN-Token höchstens 300 Sekunden gültig
    Und ist der ID-Token ein gültiger OpenID-Connect-ID-Token für das FdV
    Und hat das Authentisierungsmodul nur den Grant Type "Authorization Code" genutzt und den AuthN-Code nur an das FdV gegeben

  @TCID:ERP_UC51_002 @TESTFALL:positiv @Hauptdarsteller:Versicherter @AFO-ID:A_18809 @AFO-ID:A_18822
  Szenario: Innerhalb der SSO-Sitzung erhält der Versicherte einen weiteren AuthN-Token ohne erneute Kartensignatur
    Angenommen das FdV von "Jonas Keller" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Und das FdV hat bereits einen AuthN-Token für den Scope "e-rezept" erhalten
    Wenn das FdV erneut einen AuthN-Token für den Scope "e-rezept" anfordert
    Dann erhält das FdV einen neuen AuthN-Token, ohne dass die eGK erneut signiert hat
    Wenn das FdV einen AuthN-Token mit erzwungener erneuter Anmeldung anfordert
    Dann erhält das FdV einen neuen AuthN-Token, nachdem die eGK die Challenge erneut signiert hat

  @TCID:ERP_UC51_003 @TESTFALL:negativ @Hauptdarsteller:Versicherter @simulator-only @AFO-ID:A_18917 @AFO-ID:A_18865
  Szenario: Verweigert der Versicherte die Einwilligung, stellt der IDP keinen AuthN-Code aus
    Angenommen "Jonas Keller" hat dem FdV noch keine Einwilligung in seine Identitätsattribute erteilt
    Und das FdV von "Jonas Keller" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Wenn das FdV einen AuthN-Token für den Scope "e-rezept" anfordert und der Versicherte die Einwilligung verweigert
    Dann erhält das FdV keinen AuthN-Code, sondern den Fehler "access_denied"

  @TCID:ERP_UC51_004 @TESTFALL:negativ @Hauptdarsteller:Versicherter @simulator-only @AFO-ID:A_18818
  Szenario: Mit gesperrter PIN.CH signiert die eGK keine Challenge und der Versicherte erhält keinen AuthN-Token
    Angenommen die eGK von "Lena Sperber" steckt im Kartenleser des Geräts
    Und das FdV von "Lena Sperber" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Wenn das FdV einen AuthN-Token für den Scope "e-rezept" anfordert und der Versicherte einwilligt
    Dann meldet das Authentisierungsmodul, dass die PIN.CH der eGK gesperrt ist, und der IDP erhält keine signierte Challenge

  @TCID:ERP_UC51_005 @TESTFALL:positiv @Hauptdarsteller:Versicherter @AFO-ID:A_18940
  Szenario: Das FdV ruft das Authentisierungsmodul über dessen Systemschnittstelle auf
    Angenommen das FdV von "Jonas Keller" nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts
    Wenn das FdV das Authentisierungsmodul über einen "authenticator://"-Aufruf mit seiner Authentifizierungsanfrage startet
    Dann leitet das Authentisierungsmodul die Anfrage an den IDP weiter und gibt den AuthN-Code an die Redirect-URI des FdV zurück
    Und erhält das FdV mit diesem AuthN-Code einen AuthN-Token
