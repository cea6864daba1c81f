# language: de
@UC:UC_2.3 @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @PRODUKT:eRp_FD
Funktionalität: UC 2.3 – E-Rezept einstellen
  Das PVS stellt den qualifiziert signierten Verordnungsdatensatz mit POST /Task/<ID>/$activate und dem
  AccessCode beim E-Rezept-Fachdienst ein. Der Fachdienst prüft die QES (Signatur, HBA-Zertifikat,
  Berufsgruppe), den AccessCode und den Datensatz, bevor er das E-Rezept in den Status ready setzt.

  @TCID:ERP_UC23_001 @TESTFALL:positiv
  @AFO-ID:A_18503 @AFO-ID:A_18556
  Szenario: Ein mit dem HBA der Ärztin signiertes E-Rezept wird eingestellt
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Wenn die Ärztin für "Jonas Keller" 1 Arzneimittel verordnet
    Dann ist jedes E-Rezept beim Fachdienst für "Jonas Keller" einlösbar

  @TCID:ERP_UC23_002 @TESTFALL:negativ @simulator-only
  @AFO-ID:A_18503 @AFO-ID:A_18556
  Szenario: Ein Apotheker darf kein E-Rezept signieren
    Angenommen der HBA von "Katrin Schäfer" steckt in einem freien Kartenleser der Praxis
    Und die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Katrin Schäfer"
    Wenn die Ärztin für "Jonas Keller" 1 Arzneimittel verordnet
    Dann lehnt der Fachdienst das Einstellen mit 400 "The QES-Certificate does not have expected ProfessionOID." ab

  @TCID:ERP_UC23_003 @TESTFALL:negativ
  @AFO-ID:A_18503 @AFO-ID:A_18556
  Szenario: Ein E-Rezept mit verfälschter Signatur wird nicht eingestellt
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und für "Jonas Keller" liegt ein Task im Status draft mit signiertem Verordnungsdatensatz vor
    Wenn das PVS den Datensatz nach dem Signieren verändert einstellt
    Dann lehnt der Fachdienst das Einstellen mit 400 "Invalid CAdES-BES signature: signature verification failed" ab
    Und kann das PVS das unveränderte E-Rezept danach einstellen

  @TCID:ERP_UC23_004 @TESTFALL:negativ
  @AFO-ID:A_18503 @AFO-ID:A_18556
  Szenario: Ein E-Rezept wird mit falschem AccessCode nicht eingestellt
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und für "Jonas Keller" liegt ein Task im Status draft mit signiertem Verordnungsdatensatz vor
    Wenn das PVS das E-Rezept mit einem falschen AccessCode einstellt
    Dann lehnt der Fachdienst das Einstellen mit 403 "AccessCode mismatch" ab
    Und kann das PVS das unveränderte E-Rezept danach einstellen
