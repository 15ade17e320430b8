"""The HTTP API (`fundledger serve`): FastAPI under `/v1`, bearer tokens, problem details.

`app` builds the application; `services` holds what a process opens once (the ledger, its read
models, the log, the tokens, the idempotency records); `auth` turns a bearer token into an
actor; `problems` turns every error into RFC 9457 problem+json; `idempotency` replays writes;
`routes/` has one module per resource.
"""
