# language: de
@PRODUKT:Konnektor @UC:none
Funktionalität: Konnektor über seine SOAP-Schnittstelle: Authentisierung, QES und Fehlerfälle
  Das Primärsystem der Praxis ruft den Konnektor wie ein echtes PVS auf: SOAP 1.1 über TLS
  (Serverzertifikat aus der TI-PKI) an EventService, CardService, CertificateService,
  SignatureService und AuthSignatureService, mit dem Aufrufkontext aus dem Informationsmodell.
  Die Karten stecken in den Kartenterminals der Praxis; die PIN tippt das simulierte PIN-Pad.

  Grundlage:
    Angenommen das Primärsystem ruft den Konnektor im Aufrufkontext "Praxis-Ebert" / "PVS-SIM" / "Arbeitsplatz-1" auf

  @TCID:KONN_001 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @AFO-ID:A_18817 @AFO-ID:TUC_KON_012
  Szenario: Die Praxis authentisiert sich mit ihrer SMC-B über den Konnektor
    Wenn das Primärsystem mit GetCards die SMC-B von "Praxis Dr. Hanna Ebert" sucht
    Dann findet der Konnektor die SMC-B von "Praxis Dr. Hanna Ebert"
    Wenn das Primärsystem das Zertifikat "C.AUT" der Karte von "Praxis Dr. Hanna Ebert" liest
    Dann ist das über den Konnektor gelesene AUT-Zertifikat von der TI-PKI für "Praxis Dr. Hanna Ebert" ausgestellt
    Wenn das Primärsystem die "PIN.SMC" der Karte von "Praxis Dr. Hanna Ebert" verifiziert
    Dann meldet der Konnektor das PIN-Ergebnis "OK"
    Wenn das Primärsystem einen 32-Byte-Hash mit ExternalAuthenticate der Karte von "Praxis Dr. Hanna Ebert" nach "urn:bsi:tr:03111:ecdsa" signieren lässt
    Dann ist die Authentisierungssignatur DER-kodiert und mit dem AUT-Zertifikat gültig

  @TCID:KONN_002 @TESTFALL:positiv @Hauptdarsteller:Arztpraxis @AFO-ID:TUC_KON_150 @AFO-ID:TUC_KON_151
  Szenario: Die Ärztin signiert ein Dokument qualifiziert mit dem HBA, der Konnektor prüft die Signatur
    Wenn das Primärsystem das Dokument "Ibuprofen 600 mg, N1" mit der Karte von "Dr. Hanna Ebert" als CAdES mit Sperrinformationen signieren lässt
    Dann liefert der Konnektor eine gültige CMS-Signatur mit dem QES-Zertifikat des HBA von "Dr. Hanna Ebert"
    Wenn das Primärsystem die Signatur mit VerifyDocument prüfen lässt
    Dann lautet das Prüfergebnis des Konnektors "VALID"
    Wenn das Primärsystem die Signatur mit verändertem Dokumentinhalt prüfen lässt
    Dann lautet das Prüfergebnis des Konnektors "INVALID"

  @TCID:KONN_003 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:TUC_KON_150 @simulator-only
  Szenario: Mit gesperrter PIN.QES signiert der Konnektor nicht
    Angenommen die Karte von "Dr. Eva Sperling" steckt frisch in einem freien Kartenleser am Arbeitsplatz
    Wenn das Primärsystem das Dokument "Metamizol 500 mg, N2" mit der Karte von "Dr. Eva Sperling" als CAdES mit Sperrinformationen signieren lässt
    Dann antwortet der Konnektor mit dem Fehler 4063

  @TCID:KONN_004 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:TUC_KON_150
  Szenario: Mit der eGK des Versicherten ist keine Dokumentensignatur möglich
    Wenn das Primärsystem das Dokument "Amoxicillin 1000 mg, N1" mit der Karte von "Jonas Keller" als CAdES mit Sperrinformationen signieren lässt
    Dann antwortet der Konnektor mit dem Fehler 4047

  @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:TUC_KON_000
  Szenariogrundriss: Ein Aufrufkontext außerhalb des Informationsmodells darf den HBA nicht nutzen
    Wenn das Primärsystem im Aufrufkontext "<Mandant>" / "<Clientsystem>" / "<Arbeitsplatz>" mit der Karte von "Dr. Hanna Ebert" signieren lässt
    Dann antwortet der Konnektor mit dem Fehler <Fehler>

    @TCID:KONN_005
    Beispiele:
      | Mandant           | Clientsystem  | Arbeitsplatz   | Fehler | Bedeutung                                             |
      | Praxis-Unbekannt  | PVS-SIM       | Arbeitsplatz-1 | 4004   | Mandant unbekannt                                     |
      | Praxis-Ebert      | PVS-UNBEKANNT | Arbeitsplatz-1 | 4005   | Clientsystem unbekannt                                |
      | Praxis-Ebert      | PVS-SIM       | Arbeitsplatz-9 | 4006   | Arbeitsplatz unbekannt                                |
      | Praxis-Ebert      | AVS-SIM       | Arbeitsplatz-1 | 4010   | Clientsystem gehört nicht zum Mandanten               |
      | Apotheke-am-Markt | AVS-SIM       | Apotheke-HV-1  | 4012   | Kartenterminal des HBA gehört nicht zum Mandanten     |

  @TCID:KONN_006 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @AFO-ID:TUC_KON_150 @simulator-only
  Szenario: Wird der HBA während einer Stapelsignatur gezogen, signiert der Konnektor den Rest nicht
    Angenommen die Karte von "Dr. Miriam Voss" steckt frisch in einem freien Kartenleser am Arbeitsplatz
    Wenn das Primärsystem 1000 Dokumente mit der Karte von "Dr. Miriam Voss" im Stapel signieren lässt und die Karte währenddessen gezogen wird
    Dann signiert der Konnektor nach dem Ziehen kein Dokument mehr und meldet den Fehler 4008
