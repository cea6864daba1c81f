# language: de
@UC:none @PRODUKT:eRp_FD @PRODUKT:PVS @PRODUKT:AVS @PRODUKT:FdV @Hauptdarsteller:Fachdienst @simulator-only
Funktionalität: E-Rezept-Fachdienst – Ressourcen und Operationen (TAB_SYSLERP_019)
  Der Fachdienst verwaltet die Ressourcen E-Rezept, Zugriffsprotokolleintrag und E-Rezept-Nachricht und bietet
  für sie die Operationen aus TAB_SYSLERP_019 ihrer Nutzergruppe an (A_18517). Geprüft wird beides: sein
  CapabilityStatement (GET /metadata) nennt zu jeder Operation die FHIR-Interaktion, und jede Operation wird in
  einem einzigen Lebenszyklus über die echten Schnittstellen aufgerufen und beantwortet – vom PVS der Praxis,
  vom AVS der Apotheke, von den E-Rezept-Apps der Versicherten und ihrer Vertreterin (jeweils mit eigener Rolle
  im Token: Arzt, Apotheke, Versicherte). Beantwortet heißt: die Antwort, die die Operation vorsieht (2xx), kein
  404 oder 501. Die Vertreterin steckt ihre eGK in den Kartenleser, den danach die SMC-B der Apotheke braucht.

  @TCID:ERP_FD_RES_001 @TESTFALL:positiv @AFO-ID:A_18517
  Szenario: Jede Operation aus TAB_SYSLERP_019 wird ihrer Nutzergruppe angeboten
    Angenommen "Jonas Keller" ruft in der App das CapabilityStatement des Fachdienstes ab
    Wenn die Ärztin "Dr. Hanna Ebert", die "Apotheke am Markt", "Jonas Keller" und ihre Vertreterin "Anna Richter" führen jede Operation ihrer Nutzergruppe einmal aus
    Dann bietet der Fachdienst jede Operation aus TAB_SYSLERP_019 ihrer Nutzergruppe an:
      | Ressource                | Operation                                            | Nutzer       | FHIR                     |
      | E-Rezept                 | E-Rezept-ID abrufen                                  | Verordnender | Task $create             |
      | E-Rezept                 | E-Rezept einstellen                                  | Verordnender | Task $activate           |
      | E-Rezept                 | E-Rezept durch Verordnenden löschen                  | Verordnender | Task $abort              |
      | E-Rezept                 | E-Rezept durch Abgebenden abrufen                    | Abgebender   | Task $accept             |
      | E-Rezept                 | E-Rezept durch Abgebenden löschen                    | Abgebender   | Task $abort              |
      | E-Rezept                 | E-Rezept durch Abgebenden zurückgeben                | Abgebender   | Task $reject             |
      | E-Rezept                 | Quittung abrufen                                     | Abgebender   | Task $close              |
      | E-Rezept                 | Quittung erneut abrufen                              | Abgebender   | Task read                |
      | E-Rezept                 | E-Rezepte durch Versicherten abrufen                 | Versicherter | Task search-type         |
      | E-Rezept                 | E-Rezept durch Versicherten löschen                  | Versicherter | Task $abort              |
      | Zugriffsprotokolleintrag | Zugriffsprotokolleinträge durch Versicherten abrufen | Versicherter | AuditEvent search-type   |
      | E-Rezept-Nachricht       | E-Rezept-Nachricht einstellen                        | Versicherter | Communication create     |
      | E-Rezept-Nachricht       | E-Rezept-Nachrichten abrufen                         | Versicherter | Communication search-type |
      | E-Rezept-Nachricht       | E-Rezept-Nachricht löschen                           | Versicherter | Communication delete     |
      | E-Rezept-Nachricht       | E-Rezept-Nachricht einstellen                        | Vertreter    | Communication create     |
      | E-Rezept-Nachricht       | E-Rezept-Nachrichten abrufen                         | Vertreter    | Communication search-type |
      | E-Rezept-Nachricht       | E-Rezept-Nachricht löschen                           | Vertreter    | Communication delete     |
      | E-Rezept-Nachricht       | E-Rezept-Nachricht einstellen                        | Abgebender   | Communication create     |
      | E-Rezept-Nachricht       | E-Rezept-Nachrichten abrufen                         | Abgebender   | Communication search-type |
      | E-Rezept-Nachricht       | E-Rezept-Nachricht löschen                           | Abgebender   | Communication delete     |
