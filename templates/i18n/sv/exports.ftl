## The headers of the register's downloads.

register-column-conditions_en = Villkor (engelska)
register-column-conditions_sv = Villkor
register-column-decided_on = Beslutsdatum
register-column-deciding_function = Beslutat av
register-column-decision_reference = Diarienummer
register-column-intended_use = Syfte
register-column-name = Namn
register-column-phase = Fas (kod)
register-column-phase_sv = Fas
register-column-risk_class = Riskklass (kod)
register-column-risk_class_sv = Riskklass
register-column-service_id = Tjänstens id
register-column-short_description = Kort beskrivning
register-column-status = Status (kod)
register-column-status_sv = Status
register-column-valid_until = Gäller till och med
register-column-vendor = Leverantör
register-column-via_delegation = Enligt delegering
