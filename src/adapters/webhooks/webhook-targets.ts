/**
 * Where a webhook may be sent: the URL's rules (https, or http where the operator allows it; no
 * credentials in it) and the address rules (only public addresses, unless the operator allows
 * private ones), checked when an endpoint is registered and again on every connection.
 *
 * The check at registration is a courtesy (a clear 400); the one that protects is at delivery:
 * DNS answers can change after registration (DNS rebinding), so `guardedLookup` resolves the
 * name, refuses unless every address is allowed, and hands the socket the very addresses it
 * checked, so there is no second resolution for an attacker to answer differently.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { StorylineError } from '../../domain/errors.ts';
import type { WebhookTargetCheck } from '../../app/webhook-ports.ts';
import { classifyAddress } from './address-class.ts';

export interface TargetPolicy {
  /** Plain-http targets (default: https only). */
  readonly allowHttp: boolean;
  /** Loopback, private, link-local… targets (default: public addresses only). */
  readonly allowPrivate: boolean;
}

export const maxTargetUrlLength = 2048;

/** A refusal of a target, at registration (a 400) or at delivery (a failed attempt). */
export const refused = (message: string) => new StorylineError('webhook_target_refused', message);

/** The URL's own rules: parsed, scheme, no credentials. Returns the parsed URL. */
export function parseTarget(url: string, policy: TargetPolicy): URL {
  if (url.length > maxTargetUrlLength) {
    throw refused(`a webhook URL is at most ${maxTargetUrlLength} characters`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused('not an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw refused('a webhook URL is https:// (or http:// where the operator allows it)');
  }
  if (parsed.protocol === 'http:' && !policy.allowHttp) {
    throw refused(
      'plain http:// targets are not allowed on this server (STORYLINE_WEBHOOK_ALLOW_HTTP); use https://',
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw refused('a webhook URL may not carry a user name or password');
  }
  return parsed;
}

/** The host of a URL as an address or a name: `[::1]` becomes `::1`. */
export function hostOf(url: URL): string {
  const { hostname } = url;
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Throws unless the address is one a webhook may be sent to. */
export function checkAddress(host: string, address: string, policy: TargetPolicy): void {
  if (policy.allowPrivate) return;
  const kind = classifyAddress(address);
  if (kind === 'public') return;
  const where = host === address ? address : `${host} resolves to ${address}, which`;
  throw refused(
    `${where} is a ${kind} address; webhooks go to public addresses only (STORYLINE_WEBHOOK_ALLOW_PRIVATE)`,
  );
}

type Resolve = (host: string) => Promise<readonly LookupAddress[]>;

const resolveAll: Resolve = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => {
      if (error === null) resolve(addresses);
      else reject(error);
    });
  });

/** The registration-time check: the URL's rules, then every address its host resolves to. */
export class WebhookTargets implements WebhookTargetCheck {
  readonly #policy: TargetPolicy;
  readonly #resolve: Resolve;

  constructor(policy: TargetPolicy, resolve: Resolve = resolveAll) {
    this.#policy = policy;
    this.#resolve = resolve;
  }

  async check(url: string): Promise<void> {
    const parsed = parseTarget(url, this.#policy);
    const host = hostOf(parsed);
    if (isIP(host) !== 0) {
      checkAddress(host, host, this.#policy);
      return;
    }
    if (this.#policy.allowPrivate) return;
    let addresses: readonly LookupAddress[];
    try {
      addresses = await this.#resolve(host);
    } catch {
      throw refused(`${host} does not resolve`);
    }
    if (addresses.length === 0) throw refused(`${host} does not resolve`);
    for (const { address } of addresses) checkAddress(host, address, this.#policy);
  }
}

/**
 * A `lookup` for sockets (http.request's option): resolves like Node's own, but fails the
 * connection unless every address is allowed. Node calls no lookup for an IP-literal host, so
 * those are checked by the sender before it connects.
 */
export function guardedLookup(policy: TargetPolicy): LookupFunction {
  return function webhookLookup(hostname, options, callback) {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) {
        callback(error, '', 0);
        return;
      }
      try {
        if (addresses.length === 0) throw refused(`${hostname} does not resolve`);
        for (const { address } of addresses) checkAddress(hostname, address, policy);
      } catch (refusal) {
        callback(refusal as NodeJS.ErrnoException, '', 0);
        return;
      }
      if (options.all === true) {
        (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      } else {
        const first = addresses[0] as LookupAddress;
        callback(null, first.address, first.family);
      }
    });
  };
}
