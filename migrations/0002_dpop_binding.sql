-- RFC 9449 §10: an authorization code may be bound to the thumbprint of a DPoP key.
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;
