# language: de
@PRODUKT:TI_PKI @UC:none @Hauptdarsteller:Fachdienst @AFO-ID:TUC_PKI_006
Funktionalität: OCSP-Abfrage an der TI-PKI (TUC_PKI_006)
  Ein Fachdienst prüft als vertrauende Partei den Sperrstatus eines
  TI-Zertifikats beim OCSP-Responder der TI-PKI (RFC 6960, gemSpec_PKI
  TUC_PKI_006). Die Antwort muss vom OCSP-Signer der ausstellenden CA (oder,
  für fremde Aussteller, der TI-Wurzel) signiert sein, zur angefragten CertID
  gehören, aktuelle Zeitangaben tragen und für bekannte Zertifikate die
  CertHash-Erweiterung mit dem SHA-256-Hashwert des Zertifikats enthalten.

  Grundlage:
    Angenommen die TI-PKI veröffentlicht ihr Wurzelzertifikat

  @TCID:INFRA_PKI_OCSP_001 @TESTFALL:positiv @simulator-only
  Szenario: OCSP-Status "good" für ein gültiges SMC-B-Zertifikat
    Angenommen die TI-PKI hat für "Apotheke am Markt" ein Zertifikat mit dem Profil "C.HCI.AUT" ausgestellt
    Wenn der Fachdienst den Sperrstatus des Zertifikats beim OCSP-Responder der TI-PKI abfragt
    Dann antwortet der OCSP-Responder mit einer erfolgreichen OCSP-Antwort
    Und die OCSP-Antwort ist von einem OCSP-Signer der TI-PKI signiert
    Und die OCSP-Antwort meldet für das Zertifikat den Status "good"
    Und die Zeitangaben der OCSP-Antwort sind aktuell
    Und die CertHash-Erweiterung der OCSP-Antwort enthält den SHA-256-Hashwert des Zertifikats

  @TCID:INFRA_PKI_OCSP_002 @TESTFALL:negativ @simulator-only
  Szenario: OCSP-Status "revoked" für ein gesperrtes SMC-B-Zertifikat
    Angenommen die TI-PKI hat für "Apotheke am Markt" ein Zertifikat mit dem Profil "C.HCI.AUT" ausgestellt
    Und die TI-PKI hat dieses Zertifikat wegen "keyCompromise" gesperrt
    Wenn der Fachdienst den Sperrstatus des Zertifikats beim OCSP-Responder der TI-PKI abfragt
    Dann antwortet der OCSP-Responder mit einer erfolgreichen OCSP-Antwort
    Und die OCSP-Antwort ist von einem OCSP-Signer der TI-PKI signiert
    Und die OCSP-Antwort meldet für das Zertifikat den Status "revoked"
    Und die OCSP-Antwort nennt den Sperrzeitpunkt und den Sperrgrund "keyCompromise"
    Und die CertHash-Erweiterung der OCSP-Antwort enthält den SHA-256-Hashwert des Zertifikats

  @TCID:INFRA_PKI_OCSP_003 @TESTFALL:negativ
  Szenario: OCSP-Status "unknown" für ein Zertifikat einer fremden CA
    Angenommen eine CA außerhalb der TI hat für "Apotheke am Markt" ein Zertifikat ausgestellt
    Wenn der Fachdienst den Sperrstatus des Zertifikats beim OCSP-Responder der TI-PKI abfragt
    Dann antwortet der OCSP-Responder mit einer erfolgreichen OCSP-Antwort
    Und die OCSP-Antwort ist von einem OCSP-Signer der TI-PKI signiert
    Und die OCSP-Antwort meldet für das Zertifikat den Status "unknown"
