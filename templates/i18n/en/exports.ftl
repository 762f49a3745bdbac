## The headers of the register's downloads.

register-column-conditions_en = Conditions (English)
register-column-conditions_sv = Conditions
register-column-decided_on = Date of decision
register-column-deciding_function = Decided by
register-column-decision_reference = Decision reference
register-column-intended_use = Purpose
register-column-name = Name
register-column-phase = Phase (code)
register-column-phase_sv = Phase
register-column-risk_class = Risk class (code)
register-column-risk_class_sv = Risk class
register-column-service_id = Service id
register-column-short_description = Short description
register-column-status = Status (code)
register-column-status_sv = Status
register-column-valid_until = Valid until
register-column-vendor = Vendor
register-column-via_delegation = Under delegation
