# language: de
@UC:UC_2.1 @Hauptdarsteller:Arztpraxis @PRODUKT:PVS @PRODUKT:eRp_FD
Funktionalität: UC 2.1 – E-Rezepte erzeugen
  Das PVS prüft den Verordnungsdatensatz, ruft beim E-Rezept-Fachdienst je Verordnung eine E-Rezept-ID ab
  (POST /Task/$create), trägt sie in den Bundle ein, lässt den Bundle mit dem HBA über den Konnektor
  qualifiziert signieren, stellt ihn ein und erzeugt das E-Rezept-Token, das es als DataMatrix-Code druckt.

  @TCID:ERP_UC21_001 @TESTFALL:positiv
  @AFO-ID:A_18502 @AFO-ID:A_18555 @AFO-ID:A_18544 @AFO-ID:A_18519 @AFO-ID:A_18520 @AFO-ID:A_18614 @AFO-ID:A_18616 @AFO-ID:A_18543 @AFO-ID:A_18516
  Szenario: Die Ärztin verordnet einem GKV-Versicherten ein Arzneimittel (Workflow 160)
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Wenn die Ärztin für "Jonas Keller" 1 Arzneimittel verordnet
    Dann hat der Fachdienst je Verordnung eine E-Rezept-ID des Workflows "160" mit gültigen Prüfziffern vergeben
    Und ist der AccessCode jeder Verordnung ein 64-stelliger Hexadezimalwert
    Und trägt jeder signierte Verordnungsdatensatz die E-Rezept-ID seines Tasks als Identifier
    Und ist jedes E-Rezept beim Fachdienst für "Jonas Keller" einlösbar
    Und hält das PVS für "Jonas Keller" die E-Rezept-Token "Task/<ID>/$accept?ac=<AccessCode>" vor
    Und enthält der gedruckte DataMatrix-Code genau die E-Rezept-Token der Verordnung

  @TCID:ERP_UC21_002 @TESTFALL:positiv
  @AFO-ID:A_18502 @AFO-ID:A_18555 @AFO-ID:A_18519
  Szenario: Die Ärztin verordnet einer PKV-Versicherten ein Arzneimittel (Workflow 200)
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Wenn die Ärztin für "Claudia Neumann" 1 Arzneimittel verordnet
    Dann hat der Fachdienst je Verordnung eine E-Rezept-ID des Workflows "200" mit gültigen Prüfziffern vergeben
    Und ist jedes E-Rezept beim Fachdienst für "Claudia Neumann" einlösbar

  @TCID:ERP_UC21_003 @TESTFALL:positiv
  @AFO-ID:A_18502 @AFO-ID:A_18545 @AFO-ID:A_18544 @AFO-ID:A_18519 @AFO-ID:A_18764 @AFO-ID:A_18543 @AFO-ID:A_18516
  Szenario: Drei Verordnungen in einem Vorgang erhalten je eine eigene, fortlaufende E-Rezept-ID
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Wenn die Ärztin für "Jonas Keller" 3 Arzneimittel verordnet
    Dann hat das PVS für jede Verordnung genau einmal eine E-Rezept-ID abgerufen
    Und trägt jeder signierte Verordnungsdatensatz die E-Rezept-ID seines Tasks als Identifier
    Und sind die E-Rezept-IDs je Workflow aufsteigend vergeben und nicht wiederverwendet
    Und enthält der gedruckte DataMatrix-Code genau die E-Rezept-Token der Verordnung

  @TCID:ERP_UC21_004 @TESTFALL:negativ
  @AFO-ID:A_18612 @AFO-ID:A_18502
  Szenario: Ein fehlerhafter Verordnungsdatensatz wird vor dem Signieren abgewiesen
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" verordnet mit dem HBA von "Dr. Hanna Ebert"
    Wenn die Ärztin für "Jonas Keller" ein Arzneimittel mit der ungültigen PZN "06313729" verordnet
    Dann weist das PVS den Verordnungsdatensatz mit einem Hinweis auf die PZN zurück
    Und hat das PVS weder eine E-Rezept-ID abgerufen noch etwas zur Signatur an den Konnektor gegeben
