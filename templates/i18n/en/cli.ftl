## What the command line prints.

cli-outcome-fail = FAIL
cli-outcome-not_applicable = not applicable
cli-outcome-pass = pass
cli-outcome-warn = warning
cli-rule_set = Rule set { $version }
cli-severity-advisory = advisory
cli-severity-blocking = blocking
cli-stdin = standard input
cli-verdict-fail = does not meet the rules (at least one blocking rule fails; the service cannot be approved)
cli-verdict-invalid = cannot be checked (the document does not follow the submission schema; no rule was checked)
cli-verdict-pass = meets the rules (every blocking rule holds)
