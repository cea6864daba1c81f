# language: de
@UC:none @PRODUKT:eRp_FD @PRODUKT:IDP @simulator-only
Funktionalität: Nutzung der interoperablen Schnittstellen durch PVS, AVS und E-Rezept-FdV
  Jedes Clientsystem nutzt die Schnittstellen seiner Tabelle in gemSysL_eRp: das PVS die der
  TAB_SYSLERP_023 (A_18542), das AVS die der TAB_SYSLERP_024 (A_18547), das E-Rezept-FdV die der
  TAB_SYSLERP_022 (A_18533). Die Anwendungsfälle laufen durch das jeweilige Clientsystem; danach wird
  aus den Protokollen der Server geprüft, welche Operationen es aufgerufen hat: das Anfrageprotokoll
  des E-Rezept-Fachdienstes (Clientsystem erkannt an der Identität im Access-Token und an
  X-erp-user/User-Agent) und das Aufrufprotokoll des Konnektors (Clientsystem erkannt an der
  ClientSystemId des Aufrufkontexts). Jede protokollierte Operation wird einer Tabellenzeile
  zugeordnet (Zuordnung: steps/erezept/schnittstellen.steps.ts); keine darf außerhalb liegen, und
  jede Zeile, die die Anwendungsfälle berühren, muss erfolgreich genutzt worden sein.
  Nicht beobachtbar und daher nicht geprüft: I_IP_Transport des Konnektors (die simulierte TI hat
  kein Konnektor-VPN) und I_Directory_Query des Verzeichnisdienstes (es gibt noch keinen
  VZD-Simulator) – die Prüfung von A_18533 deckt nur Fachdienst und IDP der TAB_SYSLERP_022 ab.

  @TCID:ERP_IF_001 @TESTFALL:positiv @PRODUKT:PVS @PRODUKT:Konnektor @Hauptdarsteller:Arztpraxis @AFO-ID:A_18542
  Szenario: Das PVS nutzt beim Verordnen und Löschen genau die Schnittstellen der TAB_SYSLERP_023
    Angenommen die Schnittstellennutzung wird ab jetzt an Fachdienst und Konnektor ausgewertet
    Wenn das PVS der "Praxis Dr. Hanna Ebert" mit dem HBA von "Dr. Hanna Ebert" 2 E-Rezepte für "Jonas Keller" ausstellt
    Und das PVS das 1. E-Rezept wieder löscht
    Dann hat das Primärsystem mit der Identität von "Praxis Dr. Hanna Ebert" am E-Rezept-Fachdienst genau die Operationen der TAB_SYSLERP_023 genutzt
    Und hat das Primärsystem "PVS-SIM" am Konnektor nur Operationen der TAB_SYSLERP_023 genutzt, darunter I_SAK_Operations und die Authentisierung
    Und hat sich das Clientsystem mit der Identität von "Praxis Dr. Hanna Ebert" mit AuthN-Tokens des Identity Providers ausgewiesen

  @TCID:ERP_IF_002 @TESTFALL:positiv @PRODUKT:AVS @PRODUKT:Konnektor @Hauptdarsteller:Apotheke @AFO-ID:A_18547
  Szenario: Das AVS nutzt beim Abrufen, Zurückgeben, Löschen, Abgeben und bei Nachrichten genau die Schnittstellen der TAB_SYSLERP_024
    Angenommen die Schnittstellennutzung wird ab jetzt an Fachdienst und Konnektor ausgewertet
    Und das PVS der "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 4 E-Rezepte für "Jonas Keller" ausgestellt
    Und "Jonas Keller" das 4. E-Rezept in der E-Rezept-App der "Apotheke am Markt" zuweist
    Wenn das AVS der "Apotheke am Markt" die E-Rezepte 1 bis 3 vom Ausdruck des PVS einscannt
    Und das AVS das 1. E-Rezept abruft und an den Fachdienst zurückgibt
    Und das AVS das 2. E-Rezept abruft und löscht
    Und das AVS das 3. E-Rezept abruft, die Abgabe abschließt und die Quittung erneut abruft
    Und das AVS seine Nachrichten abruft, das zugewiesene E-Rezept abruft und dem Versicherten antwortet
    Dann hat das Primärsystem mit der Identität von "Apotheke am Markt" am E-Rezept-Fachdienst genau die Operationen der TAB_SYSLERP_024 genutzt
    Und hat das Primärsystem "AVS-SIM" am Konnektor nur Operationen der TAB_SYSLERP_024 genutzt, darunter I_SAK_Operations und die Authentisierung
    Und hat sich das Clientsystem mit der Identität von "Apotheke am Markt" mit AuthN-Tokens des Identity Providers ausgewiesen

  @TCID:ERP_IF_003 @TESTFALL:positiv @PRODUKT:FdV @Hauptdarsteller:Versicherter @AFO-ID:A_18533
  Szenario: Das E-Rezept-FdV nutzt am Fachdienst genau die Operationen der TAB_SYSLERP_022 (ohne VZD)
    Angenommen die Schnittstellennutzung wird ab jetzt an Fachdienst und Konnektor ausgewertet
    Und das PVS der "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 3 E-Rezepte für "Jonas Keller" ausgestellt
    Wenn "Jonas Keller" in der E-Rezept-App seine E-Rezepte abruft
    Und "Jonas Keller" das 1. E-Rezept in der E-Rezept-App löscht
    Und "Jonas Keller" das 2. E-Rezept in der E-Rezept-App der "Apotheke am Markt" zuweist
    Und "Jonas Keller" das 3. E-Rezept als DataMatrix-Code an "Anna Richter" weitergibt, die es als Vertreterin abruft
    Und "Jonas Keller" in der E-Rezept-App die Nachrichten abruft und die gesendete Zuweisung löscht
    Und "Jonas Keller" in der E-Rezept-App das Zugriffsprotokoll abruft
    Dann hat das E-Rezept-FdV von "Jonas Keller" und der Vertreterin "Anna Richter" am E-Rezept-Fachdienst genau die Operationen der TAB_SYSLERP_022 genutzt
    Und hat sich das E-Rezept-FdV von "Jonas Keller" und der Vertreterin "Anna Richter" mit AuthN-Tokens des Identity Providers ausgewiesen
