"""Response and error models for /openapi.json: documentation that tests hold to the truth.

Routes return pre-serialised JSON (ovtui.api.serialize.JSON) or plain dicts; these models are
declared with `responses=` only, so describing a 20 000-VM list costs nothing per request.
tests/api/test_openapi_conformance.py runs schemathesis against a demo engine and fails on any
answer (status, content type, body) the document does not describe.
"""
