"""One module per resource: `health`, `programmes` (opening, admissions, summary), `writes`
(every county command), `counties` (a county's read models), `projects` (a county's project
register), `history` and `audit` (the signed log)."""
