# language: de
@UC:UC_2.1 @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @PRODUKT:Konnektor
Funktionalität: Signaturverfahren des PVS und keine unsignierten E-Rezepte
  Das PVS signiert die Verordnungen wahlweise einzeln, als Stapel oder mit Komfortsignatur (A_18541); das
  Verfahren ist konfigurierbar. Ein Verordnungsdatensatz ohne gültige QES des HBA verlässt das PVS nie
  (A_18613). Die PIN-Eingaben zählt das Aufrufprotokoll des Konnektors (Admin-Schnittstelle).

  @TESTFALL:positiv @simulator-only @AFO-ID:A_18541 @AFO-ID:A_18502
  Szenariogrundriss: Im Signaturverfahren <Verfahren> braucht das PVS für <Anzahl> Verordnungen <PIN> PIN-Eingaben beim Signieren
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert" im Signaturverfahren "<Verfahren>"
    Wenn die Ärztin für "Jonas Keller" <Anzahl> Arzneimittel verordnet
    Dann hat das PVS die <Anzahl> Verordnungen mit <Aufrufe> SignDocument-Aufrufen und insgesamt <PIN> PIN-Eingaben beim Signieren signieren lassen
    Und hat das PVS <Aktivierungen> Komfortsignatur mit einer PIN-Eingabe aktiviert
    Und ist jedes E-Rezept beim Fachdienst für "Jonas Keller" einlösbar

    @TCID:ERP_A18541_001
    Beispiele: Einzelsignatur
      | Verfahren | Anzahl | Aufrufe | PIN | Aktivierungen |
      | single    | 2      | 2       | 2   | keine         |

    @TCID:ERP_A18541_002
    Beispiele: Stapelsignatur
      | Verfahren | Anzahl | Aufrufe | PIN | Aktivierungen |
      | batch     | 3      | 1       | 1   | keine         |

    @TCID:ERP_A18541_003
    Beispiele: Komfortsignatur
      | Verfahren | Anzahl | Aufrufe | PIN | Aktivierungen |
      | comfort   | 2      | 2       | 0   | eine          |

  @TESTFALL:positiv @simulator-only @AFO-ID:A_18541 @AFO-ID:A_18502
  Szenariogrundriss: Ohne Auswahl signiert das PVS im konfigurierten Standardverfahren
    Angenommen das Standard-Signaturverfahren des PVS ist "<Konfiguration>"
    Und die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Wenn die Ärztin für "Jonas Keller" 2 Arzneimittel verordnet
    Dann signiert das PVS im Verfahren "<Verfahren>"
    Und hat das PVS die 2 Verordnungen mit <Aufrufe> SignDocument-Aufrufen und insgesamt <PIN> PIN-Eingaben beim Signieren signieren lassen

    @TCID:ERP_A18541_004
    Beispiele: nicht konfiguriert
      | Konfiguration | Verfahren | Aufrufe | PIN |
      |               | batch     | 1       | 1   |

    @TCID:ERP_A18541_005
    Beispiele: konfiguriert
      | Konfiguration | Verfahren | Aufrufe | PIN |
      | single        | single    | 2       | 2   |

  @TCID:ERP_A18613_001 @TESTFALL:negativ @simulator-only @AFO-ID:A_18613 @AFO-ID:A_18502
  Szenario: Eine Verordnung ohne gültige QES verlässt das PVS nicht
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und der Konnektor liefert statt der Signatur einen CMS-Container über einen anderen Datensatz
    Wenn die Ärztin für "Jonas Keller" 1 Arzneimittel verordnet
    Dann verweigert das PVS das Einstellen, weil die Verordnung nicht gültig signiert ist
    Und hat das PVS kein $activate an den Fachdienst gesendet
    Und bleibt der Task beim Fachdienst im Status "draft"
