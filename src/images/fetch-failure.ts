// Why a request to a registry got no HTTP answer, in words a user can act
// on. fetch rejects with "fetch failed" and puts the reason in `cause`: an
// errno, an OpenSSL or certificate code, or undici's own, each with a
// message that is the library's ("ssl3_get_record:wrong version number").

/** Certificate codes that mean the chain ends at a CA this machine does not trust. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

interface Cause {
  code?: string;
  message?: string;
  /** An AggregateError: each address of the host tried (localhost: ::1 and 127.0.0.1). */
  errors?: Cause[];
}

function causeOf(err: unknown): Cause {
  const cause = ((err as { cause?: Cause }).cause ?? err ?? {}) as Cause;
  return cause.code || !cause.errors?.length ? cause : cause.errors[0];
}

/**
 * What happened at url's host and what to do, for `err` thrown by fetch(url).
 * `byFlag`: url's scheme is the one --plain-http chose, so the flag is the
 * remedy when it is the wrong one (a token service's URL is the registry's
 * to choose).
 */
export function fetchFailure(url: URL, err: unknown, byFlag: boolean): string {
  const { code, message = String(err) } = causeOf(err);
  const host = url.host;
  const https = url.protocol === 'https:';
  const port = url.port || (https ? '443' : '80');
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return byFlag ? `${host} answered in plain HTTP, not HTTPS: add --plain-http for a registry without TLS` : `${host} answered ${url.origin} in plain HTTP, not HTTPS`;
  }
  if (code !== undefined && UNTRUSTED.has(code)) {
    return `${host}'s TLS certificate is not trusted (self-signed, or from a CA this machine does not know): give strata the CA's certificate with NODE_EXTRA_CA_CERTS=FILE.pem`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `${host}'s TLS certificate ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'}: renew it, or check this machine's clock`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${host}'s TLS certificate is not for ${url.hostname}: reach the registry by a name its certificate has`;
  if (code === 'ECONNREFUSED') return `${host} refused the connection: no registry listens on port ${port} there; check the host and port`;
  if (code === 'ENOTFOUND') return `cannot resolve ${url.hostname}: no such host; check the name`;
  if (code === 'EAI_AGAIN') return `cannot resolve ${url.hostname} now: DNS did not answer; check this machine's network and DNS`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${host}: check the address and this machine's network`;
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `${host} did not answer: the connection timed out; check the host, port and any firewall`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
    return https || !byFlag
      ? `${host} closed the connection before answering: check that a registry serves ${url.protocol.slice(0, -1).toUpperCase()} on port ${port}`
      : `${host} closed the connection before answering: if it serves HTTPS, leave out --plain-http`;
  }
  // fetch refuses the ports browsers block (6000, 6665-6669, 10080, ...), before any connection.
  if (message === 'bad port') return `fetch will not connect to port ${port} (a port browsers block): serve the registry on another port`;
  return `cannot reach ${url.origin}: ${message.split('\n')[0]}`;
}
