# language: de
@UC:none @PRODUKT:eRp_FD @simulator-only
Funktionalität: E-Rezept-Fachdienst – Robustheit bei Systemfehlern
  Der Fachdienst führt jeden Aufruf transaktionssicher aus: scheitert die Verarbeitung, bleibt nichts
  davon gespeichert, und er kehrt ohne administrativen Eingriff in einen konsistenten Zustand zurück.
  Der Anwender erkennt am Primärsystem, dass sein Vorgang gescheitert ist, und kann ihn durch ein
  einfaches "erneut versuchen" wiederholen. Geht nur die Antwort verloren, nennt die Wiederholung den
  erreichten Status, statt den Vorgang doppelt auszuführen.
  Die Systemfehler werden über die Fehlerinjektion des simulierten Fachdienstes ausgelöst
  (/__admin/faults), jeweils nur für den nächsten Aufruf der Operation. Wie in der Referenzumgebung
  (ru-dumps Apotheke/zweimaliges_akzeptieren_…_nach_datenverlust_möglich) holt sich eine Apotheke, deren
  Annahme unbeantwortet blieb, das Secret mit dem AccessCode (GET /Task/<id>?ac=) erneut.

  @TCID:ERP_FD_ROB_001 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @PRODUKT:PVS
  @AFO-ID:A_18936 @AFO-ID:A_18824 @AFO-ID:A_18825 @AFO-ID:A_18826
  Szenario: Scheitert das Einstellen in der Transaktion, bleibt der Task unverändert und die Wiederholung gelingt
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und beim Fachdienst scheitert das nächste "Task.$activate" in seiner Datenbanktransaktion vor dem Commit
    Wenn die Ärztin für "Jonas Keller" ein E-Rezept ausstellt
    Dann meldet das PVS der Ärztin den Fehler 500 des Fachdienstes mit dem Text "Processing failed because of a system error; nothing was stored. Please repeat the request."
    Und hat der Fachdienst vom gescheiterten Aufruf nichts gespeichert: der Task ist unverändert im Status "draft"
    Wenn das PVS den gescheiterten Aufruf unverändert wiederholt
    Dann stellt der Fachdienst bei der Wiederholung das E-Rezept ein: 200 mit Status "ready"

  @TCID:ERP_FD_ROB_002 @TESTFALL:negativ @Hauptdarsteller:Apotheke @PRODUKT:AVS
  @AFO-ID:A_18936 @AFO-ID:A_18824 @AFO-ID:A_18825 @AFO-ID:A_18826
  Szenario: Scheitert die Annahme in der Transaktion, bleibt das E-Rezept ohne Secret einlösbar und die Wiederholung gelingt
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und die Ärztin hat für "Jonas Keller" 1 Arzneimittel verordnet
    Und beim Fachdienst scheitert das nächste "Task.$accept" in seiner Datenbanktransaktion vor dem Commit
    Wenn die Apotheke "Apotheke am Markt" versucht, das E-Rezept anzunehmen
    Dann meldet das AVS der Apotheke den Fehler 500 des Fachdienstes mit dem Text "Processing failed because of a system error; nothing was stored. Please repeat the request."
    Und hat der Fachdienst vom gescheiterten Aufruf nichts gespeichert: der Task ist unverändert im Status "ready"
    Wenn die Apotheke "Apotheke am Markt" die Annahme erneut versucht
    Dann erhält die Apotheke bei der Wiederholung das E-Rezept mit einem Secret

  @TCID:ERP_FD_ROB_003 @TESTFALL:negativ @Hauptdarsteller:Arztpraxis @PRODUKT:PVS
  @AFO-ID:A_18936 @AFO-ID:A_18825 @AFO-ID:A_18826
  Szenario: Geht die Antwort auf das Einstellen verloren, nennt die Wiederholung den Status "ready"
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und beim Fachdienst geht die Antwort auf das nächste "Task.$activate" nach dem Commit verloren: die VAU antwortet mit 502
    Wenn die Ärztin für "Jonas Keller" ein E-Rezept ausstellt
    Dann meldet das PVS der Ärztin, dass der Fachdienst nicht antwortete (Status 502)
    Und hat der Fachdienst den Aufruf vollständig ausgeführt: der Task ist im Status "ready" mit 1 Protokolleintrag
    Wenn das PVS den gescheiterten Aufruf unverändert wiederholt
    Dann weist der Fachdienst die Wiederholung mit 403 und dem Text "Task not in status draft but in status ready" ab

  @TCID:ERP_FD_ROB_004 @TESTFALL:negativ @Hauptdarsteller:Apotheke @PRODUKT:AVS
  @AFO-ID:A_18936 @AFO-ID:A_18825 @AFO-ID:A_18826
  Szenario: Bricht die Verbindung nach der Annahme ab, erfährt die Apotheke bei der Wiederholung, dass sie das E-Rezept hält
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und die Ärztin hat für "Jonas Keller" 1 Arzneimittel verordnet
    Und beim Fachdienst geht die Antwort auf das nächste "Task.$accept" nach dem Commit durch einen Verbindungsabbruch verloren
    Wenn die Apotheke "Apotheke am Markt" versucht, das E-Rezept anzunehmen
    Dann meldet das AVS der Apotheke, dass die Verbindung abbrach, ohne die Annahme zu wiederholen
    Und hat der Fachdienst den Aufruf vollständig ausgeführt: der Task ist im Status "in-progress" mit 2 Protokolleinträgen
    Wenn die Apotheke "Apotheke am Markt" die Annahme erneut versucht
    Dann weist der Fachdienst die Wiederholung mit 409 und dem Text "Task has invalid status in-progress" ab
    Und nennt der Fachdienst bei der Wiederholung zusätzlich den Text "Task is processed by requesting institution"
    Wenn die Apotheke "Apotheke am Markt" ihr Secret mit dem AccessCode beim Fachdienst erneut abruft und das E-Rezept damit zurückgibt
    Dann erhält die Apotheke das Secret der unbeantworteten Annahme und kann mit ihm weiterarbeiten
