# language: de
@PRODUKT:Karte @UC:none
Funktionalität: Virtuelle Karten der Personas hinter einem echten PC/SC-Stack
  Die eGK, HBA und SMC-B der Personas sind Karten-Betriebssysteme der TI-Harness,
  die über den vpcd-Treiber in pcscd stecken. Ein Primärsystem, Konnektor oder
  PoPP-Client erreicht sie wie echte Karten: über PC/SC (pcsc-mini → pcscd).
  Jedes Szenario steckt die Karten frisch (neue PIN-Zähler, neuer Sicherheitszustand).

  @TCID:KARTE_PCSC_001 @TESTFALL:positiv @Hauptdarsteller:Versicherter @AFO-ID:ISO7816-4_SELECT @simulator-only
  Szenario: Die eGK von "Jonas Keller" wählt ihre Anwendungen über PC/SC aus
    Angenommen die Karte von "Jonas Keller" steckt frisch in einem Kartenleser
    Wenn ein PC/SC-Client die Anwendung mit der AID "D27600000102" auswählt
    Dann antwortet die Karte mit dem Statuswort "9000"
    Wenn ein PC/SC-Client die Anwendung mit der AID "D2760001FFFFFF" auswählt
    Dann antwortet die Karte mit dem Statuswort "6A82"

  @TCID:KARTE_PCSC_002 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:ISO7816-4_SECURITY_STATUS @simulator-only
  Szenario: Der HBA von "Dr. Hanna Ebert" signiert nur nach Eingabe der PIN.QES
    Angenommen die Karte von "Dr. Hanna Ebert" steckt frisch in einem Kartenleser
    Wenn ein PC/SC-Client ohne PIN-Eingabe eine QES-Signatur anfordert
    Dann antwortet die Karte mit dem Statuswort "6982"
    Wenn ein PC/SC-Client die PIN.QES korrekt eingibt
    Und ein PC/SC-Client eine QES-Signatur anfordert
    Dann ist die Signatur mit dem QES-Zertifikat der Karte aus der TI-PKI gültig

  @TCID:KARTE_PCSC_003 @TESTFALL:negativ @Hauptdarsteller:Versicherter @AFO-ID:ISO7816-4_VERIFY @AFO-ID:ISO7816-4_RESET_RETRY_COUNTER @simulator-only
  Szenario: Dreimal falsche PIN.CH sperrt die PIN der eGK, die PUK entsperrt sie
    Angenommen die Karte von "Jonas Keller" steckt frisch in einem Kartenleser
    Wenn ein PC/SC-Client die PIN.CH falsch eingibt
    Dann antwortet die Karte mit dem Statuswort "63C2"
    Wenn ein PC/SC-Client die PIN.CH falsch eingibt
    Dann antwortet die Karte mit dem Statuswort "63C1"
    Wenn ein PC/SC-Client die PIN.CH falsch eingibt
    Dann antwortet die Karte mit dem Statuswort "63C0"
    Wenn ein PC/SC-Client die PIN.CH korrekt eingibt
    Dann antwortet die Karte mit dem Statuswort "6983"
    Wenn ein PC/SC-Client die PIN.CH mit der PUK entsperrt
    Dann antwortet die Karte mit dem Statuswort "9000"
    Wenn ein PC/SC-Client die PIN.CH korrekt eingibt
    Dann antwortet die Karte mit dem Statuswort "9000"

  @TCID:KARTE_PCSC_004 @TESTFALL:positiv @Hauptdarsteller:Apotheke @AFO-ID:PCSC_CARD_PRESENCE @simulator-only
  Szenario: Eine gezogene SMC-B sieht der Kartenleser als entfernt
    Angenommen die Karte von "Apotheke am Markt" steckt frisch in einem Kartenleser
    Wenn die Karte von "Apotheke am Markt" gezogen wird
    Dann meldet der Kartenleser über PC/SC keine Karte
    Und ein PC/SC-Client kann keine Kommandos mehr an die Karte senden
    Wenn die Karte von "Apotheke am Markt" wieder gesteckt wird
    Dann meldet der Kartenleser über PC/SC eine Karte mit dem ATR der SMC-B

  @TCID:KARTE_PCSC_005 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @AFO-ID:A_18816 @simulator-only
  Szenario: Der HBA liefert sein AUT-Zertifikat und signiert eine Challenge (Kartenseite)
    Angenommen die Karte von "Dr. Hanna Ebert" steckt frisch in einem Kartenleser
    Wenn ein PC/SC-Client das AUT-Zertifikat der Karte liest
    Und ein PC/SC-Client nach Eingabe der PIN eine Challenge mit dem AUT-Schlüssel signieren lässt
    Dann ist das AUT-Zertifikat von der TI-PKI für "Dr. Hanna Ebert" ausgestellt
    Und ist die Signatur der Challenge mit dem AUT-Zertifikat gültig

  @TCID:KARTE_PCSC_006 @TESTFALL:positiv @Hauptdarsteller:Apotheke @AFO-ID:A_18817 @simulator-only
  Szenario: Die SMC-B liefert ihr AUT-Zertifikat und signiert eine Challenge (Kartenseite)
    Angenommen die Karte von "Apotheke am Markt" steckt frisch in einem Kartenleser
    Wenn ein PC/SC-Client das AUT-Zertifikat der Karte liest
    Und ein PC/SC-Client nach Eingabe der PIN eine Challenge mit dem AUT-Schlüssel signieren lässt
    Dann ist das AUT-Zertifikat von der TI-PKI für "Apotheke am Markt" ausgestellt
    Und ist die Signatur der Challenge mit dem AUT-Zertifikat gültig

  @TCID:KARTE_PCSC_007 @TESTFALL:positiv @Hauptdarsteller:Versicherter @AFO-ID:A_18818 @simulator-only
  Szenario: Die eGK liefert ihr AUT-Zertifikat und signiert eine Challenge (Kartenseite)
    Angenommen die Karte von "Jonas Keller" steckt frisch in einem Kartenleser
    Wenn ein PC/SC-Client das AUT-Zertifikat der Karte liest
    Und ein PC/SC-Client nach Eingabe der PIN eine Challenge mit dem AUT-Schlüssel signieren lässt
    Dann ist das AUT-Zertifikat von der TI-PKI für "Jonas Keller" ausgestellt
    Und ist die Signatur der Challenge mit dem AUT-Zertifikat gültig
