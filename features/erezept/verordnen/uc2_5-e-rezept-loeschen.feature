# language: de
@UC:UC_2.5 @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @PRODUKT:eRp_FD
Funktionalität: UC 2.5 – E-Rezept durch Verordnenden löschen
  Das PVS löscht ein eingestelltes E-Rezept mit POST /Task/<ID>/$abort und dem AccessCode, solange keine
  Apotheke es angenommen hat. Danach kann keine Apotheke es mehr annehmen.

  @TCID:ERP_UC25_001 @TESTFALL:positiv @simulator-only
  @AFO-ID:A_18505 @AFO-ID:A_18557 @AFO-ID:A_18764 @AFO-ID:A_18820
  Szenario: E-Rezept durch Verordnenden löschen
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und die Ärztin hat für "Jonas Keller" 1 Arzneimittel verordnet
    Und der Fachdienst speichert zu dem E-Rezept die KVNR, den AccessCode und die signierte Verordnung
    Wenn die Ärztin das zuletzt eingestellte E-Rezept löscht
    Dann bestätigt der Fachdienst das Löschen mit 204 und das PVS hält das E-Rezept-Token nicht mehr vor
    Und hält der Fachdienst zu dem gelöschten E-Rezept keine personenbezogenen und medizinischen Daten mehr
    Und kann die Apotheke "Apotheke am Markt" das gelöschte E-Rezept nicht annehmen: 410 "Task meanwhile deleted for prescription id"
    Und erhält die nächste Verordnung eine neue E-Rezept-ID

  @TCID:ERP_UC25_002 @TESTFALL:negativ @simulator-only
  @AFO-ID:A_18505 @AFO-ID:A_18557
  Szenario: Löschen des E-Rezepts nicht möglich, weil durch Apotheke reserviert
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Und die Ärztin hat für "Jonas Keller" 1 Arzneimittel verordnet
    Und die Apotheke "Apotheke am Markt" hat das E-Rezept angenommen
    Wenn die Ärztin das zuletzt eingestellte E-Rezept löscht
    Dann lehnt der Fachdienst das Löschen mit 403 "Task must not be in progress for users other than pharmacy, but is: in-progress" ab
