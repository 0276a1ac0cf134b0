"""OpenID Connect client for Isidoor: discovery, code flow with PKCE and nonce, ID token checks, logout.

The provider's discovery document and keys are fetched on first use (never at
import or app creation, so the platform starts when Isidoor is down), then
kept in memory: the document for `DISCOVERY_TTL` seconds, the keys until a
token names a key they lack. Every failure raises `OidcError` with a French
message for the login page.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, DecodeError, InvalidKeyIdError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import KeySet, KeySetSerialization

from engine.directory.provisioning import ClaimNames
from engine.errors import Refusal
from webapp.config import Settings, settings_of

DISCOVERY_TTL = 3600
# Asymmetric algorithms only: a token signed with the client secret (HS256) or unsigned ("none") is refused.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
UNREACHABLE = ("Le service de connexion Isidoor ne répond pas pour le moment. Réessayez dans quelques minutes"
               " ou adressez-vous au support d'Isidoor (support@isidoor.org).")


class OidcError(Refusal):
    """A login through Isidoor failed; the message is French and safe to show. `status` is the page's status."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message, status=status)


@dataclass(frozen=True)
class OidcSettings:
    """The platform as a client of Isidoor, from the app's configuration."""

    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    claims: ClaimNames
    clock_skew: int
    timeout: float

    @classmethod
    def of(cls, settings: Settings) -> OidcSettings | None:
        """The client's settings from the platform's OIDC_* settings, or None when single sign-on is not
        configured."""
        if not settings.oidc_issuer or not settings.oidc_client_id:
            return None
        scopes = settings.oidc_scopes.split()
        return cls(
            issuer=settings.oidc_issuer, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
            scopes=" ".join(scopes if "openid" in scopes else ["openid", *scopes]),
            claims=ClaimNames(isidoor_id=settings.oidc_claim_isidoor_id, gabriel_id=settings.oidc_claim_gabriel_id,
                              email=settings.oidc_claim_email, phone=settings.oidc_claim_phone,
                              roles=settings.oidc_claim_roles),
            clock_skew=settings.oidc_clock_skew, timeout=settings.oidc_timeout)

    @property
    def origin(self) -> str:
        """Scheme, host and port of the issuer, which the login and logout forms are sent on to."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


def validate_id_token(id_token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str, now: float,
                      leeway: int = 60, algorithms: tuple[str, ...] = ("RS256",)) -> dict:
    """Check an ID token's signature against the provider's keys, then its claims; return them.

    Raises `OidcError` (French) for an unreadable token, an algorithm not
    accepted, a key the provider does not publish, a bad signature, another
    issuer, another audience, an expired or not yet valid token, or a nonce
    that is not this login's. Raises `InvalidKeyIdError` when `keys` lacks
    the token's key, so that the caller may fetch the keys again.
    """
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        raise OidcError("Le jeton d'identité transmis par Isidoor est illisible.") from None
    if header.get("alg") not in algorithms:
        raise OidcError(f"Le jeton d'identité est signé avec un algorithme non accepté ({header.get('alg')}).")
    try:
        claims = jwt.decode(id_token, keys, algorithms=list(algorithms)).claims
    except InvalidKeyIdError:
        raise
    except BadSignatureError:
        raise OidcError("La signature du jeton d'identité est invalide : il n'a pas été émis par Isidoor. "
                        "La connexion est refusée.") from None
    except (UnsupportedAlgorithmError, DecodeError, JoseError, ValueError):
        raise OidcError("Le jeton d'identité transmis par Isidoor est illisible.") from None
    if claims.get("iss") != issuer:
        raise OidcError(f"Le jeton d'identité a été émis par « {claims.get('iss')} » et non par Isidoor "
                        f"(« {issuer} »). La connexion est refusée.")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
    if client_id not in audiences or claims.get("azp", client_id) != client_id:
        raise OidcError("Le jeton d'identité est destiné à une autre application que cette plateforme "
                        f"(destinataire : « {', '.join(map(str, audiences)) or 'aucun'} »). La connexion est refusée.")
    for name in ("exp", "iat"):
        if isinstance(claims.get(name), bool) or not isinstance(claims.get(name), (int, float)):
            raise OidcError(f"Le jeton d'identité ne porte pas de date « {name} » lisible. La connexion est refusée.")
    if now > claims["exp"] + leeway:
        raise OidcError("Le jeton d'identité transmis par Isidoor a expiré. Reconnectez-vous.")
    if claims["iat"] > now + leeway or (isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now + leeway):
        raise OidcError("Le jeton d'identité n'est pas encore valable : l'horloge de la plateforme ou d'Isidoor "
                        "est déréglée. Réessayez dans quelques minutes.")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        raise OidcError("Le jeton d'identité ne correspond pas à cette demande de connexion. Recommencez la "
                        "connexion depuis la plateforme.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OidcError("Le jeton d'identité ne désigne personne (« sub » absent). La connexion est refusée.")
    return claims


class OidcProvider:
    """Isidoor as this platform sees it: lazily discovered, with its keys cached."""

    def __init__(self, settings: OidcSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._fetched_at = 0.0
        self._keys: KeySet | None = None

    def _get_json(self, url: str) -> dict:
        try:
            response = requests.get(url, timeout=self.settings.timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError):
            raise OidcError(UNREACHABLE, 502) from None
        if not isinstance(document, dict):
            raise OidcError(UNREACHABLE, 502)
        return document

    def metadata(self) -> dict:
        """The discovery document (.well-known/openid-configuration), fetched on first use and kept an hour."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched_at > DISCOVERY_TTL:
                document = self._get_json(self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration")
                if document.get("issuer") != self.settings.issuer:
                    raise OidcError("Le document de découverte d'Isidoor annonce l'émetteur "
                                    f"« {document.get('issuer')} » au lieu de « {self.settings.issuer} » : "
                                    "vérifiez OIDC_ISSUER.", 502)
                missing = [name for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                           if not isinstance(document.get(name), str)]
                if missing:
                    raise OidcError(f"Le document de découverte d'Isidoor ne donne pas {', '.join(missing)}.", 502)
                self._metadata, self._fetched_at = document, time.monotonic()
            return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        """The provider's public keys (JWKS), fetched again when `refresh` is set."""
        if self._keys is None or refresh:
            try:
                # Any JSON object: import_key_set checks its shape, and its errors are caught below.
                jwks = cast(KeySetSerialization, self._get_json(self.metadata()["jwks_uri"]))
                self._keys = KeySet.import_key_set(jwks)
            except (JoseError, ValueError, KeyError, TypeError):
                raise OidcError("Les clés publiées par Isidoor sont illisibles.", 502) from None
        return self._keys

    def _client(self, redirect_uri: str | None = None) -> OAuth2Session:
        methods = self.metadata().get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods or "client_secret_post" not in methods \
            else "client_secret_post"
        return OAuth2Session(self.settings.client_id, self.settings.client_secret, scope=self.settings.scopes,
                             redirect_uri=redirect_uri, code_challenge_method="S256",
                             token_endpoint_auth_method=method)

    def authorization_request(self, redirect_uri: str) -> tuple[str, dict]:
        """The provider's URL to send the browser to, and the flow to keep until the callback (state, nonce, PKCE)."""
        flow = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
                "verifier": secrets.token_urlsafe(64), "at": time.time()}
        with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(self.metadata()["authorization_endpoint"],
                                                          state=flow["state"], nonce=flow["nonce"],
                                                          code_verifier=flow["verifier"])
        return url, flow

    def complete(self, code: str, flow: dict, redirect_uri: str) -> tuple[dict, str]:
        """Exchange the code, check the ID token, read the user info; return the claims and the raw ID token."""
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(self.metadata()["token_endpoint"], grant_type="authorization_code",
                                           code=code, code_verifier=flow["verifier"], timeout=self.settings.timeout)
        except OAuthError:
            raise OidcError("Isidoor a refusé le code de connexion (déjà utilisé ou expiré). "
                            "Recommencez la connexion.") from None
        except (requests.RequestException, ValueError):
            raise OidcError(UNREACHABLE, 502) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("Isidoor n'a pas transmis de jeton d'identité : vérifiez que la portée « openid » est "
                            "demandée (OIDC_SCOPES).")
        claims = self.check_id_token(id_token, flow["nonce"])
        userinfo = self._userinfo(token.get("access_token"))
        if userinfo and userinfo.get("sub") != claims["sub"]:
            raise OidcError("Les informations transmises par Isidoor désignent une autre personne que le jeton "
                            "d'identité. La connexion est refusée.")
        # The signed ID token wins over the user info where both give a claim.
        return {**userinfo, **claims}, id_token

    def check_id_token(self, id_token: str, nonce: str) -> dict:
        """Validate an ID token with the provider's keys, fetching them again once for an unknown key."""
        algorithms = self._algorithms()
        for refresh in (False, True):
            try:
                return validate_id_token(id_token, self.keys(refresh), issuer=self.settings.issuer,
                                         client_id=self.settings.client_id, nonce=nonce, now=time.time(),
                                         leeway=self.settings.clock_skew, algorithms=algorithms)
            except InvalidKeyIdError:
                continue
        raise OidcError("Le jeton d'identité est signé par une clé qu'Isidoor ne publie pas : il n'a pas été émis "
                        "par Isidoor. La connexion est refusée.")

    def _algorithms(self) -> tuple[str, ...]:
        advertised = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        return tuple(alg for alg in advertised if alg in SIGNING_ALGORITHMS) or ("RS256",)

    def _userinfo(self, access_token) -> dict:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint or not isinstance(access_token, str):
            return {}
        try:
            response = requests.get(endpoint, timeout=self.settings.timeout,
                                    headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError):
            raise OidcError(UNREACHABLE, 502) from None
        return info if isinstance(info, dict) else {}

    def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to end the Isidoor session too (RP-initiated logout), if Isidoor offers it."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except OidcError:
            return None
        if not isinstance(endpoint, str):
            return None
        query = urlencode({**({"id_token_hint": id_token} if isinstance(id_token, str) else {}),
                           "post_logout_redirect_uri": post_logout_redirect_uri, "client_id": self.settings.client_id})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def provider_of(app) -> OidcProvider | None:
    """The app's provider client, made on first use; None when single sign-on is not configured."""
    if "oidc" not in app.extensions:
        settings = OidcSettings.of(settings_of(app))
        app.extensions["oidc"] = OidcProvider(settings) if settings else None
    return app.extensions["oidc"]
