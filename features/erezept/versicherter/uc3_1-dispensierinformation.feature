# language: de
@UC:UC_3.1 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: Dispensierinformation für ein einzelnes E-Rezept abrufen (A_19141)
  Nach der Abgabe ruft der Versicherte in der E-Rezept-App ein einzelnes E-Rezept zusammen mit seinen
  Dispensierinformationen ab: GET /Task/<id>?_include=output (TAB_SYSLERP_058) liefert ein Bundle aus dem Task und
  den MedicationDispense-Ressourcen, die die Apotheke beim Abschluss übermittelt hat.

  @TCID:ERP_UC31_004 @TESTFALL:positiv @AFO-ID:A_19141
  Szenario: Der Versicherte sieht zu seinem eingelösten E-Rezept genau das abgegebene Medikament
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Und die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Wenn "Jonas Keller" ruft das E-Rezept mit seinen Dispensierinformationen in der App ab
    Dann enthält die Antwort das E-Rezept von "Jonas Keller" und genau die Dispensierinformation der "Apotheke am Markt"
