/**
 * The tuning policies `ksmctl compare --policies` offers, one module each
 * (docs/policies.md): what each daemon is, where it comes from, and which
 * eras can run it. A tool takes a name with parsePolicies and asks the
 * entry (`refuse`, `create`); it never knows the policies one by one.
 */
import { ADVISOR } from './advisor.js';
import { FIXED } from './fixed.js';
import { KATA } from './kata.js';
import { KSMTUNED } from './ksmtuned.js';
import { KUBEVIRT } from './kubevirt.js';
import { MOM } from './mom.js';
import type { PolicyEntry } from './policy.js';
import { ZERO_PAGES } from './zero-pages.js';

export const POLICIES: readonly PolicyEntry[] = [FIXED, KSMTUNED, MOM, KUBEVIRT, KATA, ADVISOR, ZERO_PAGES];

export const POLICY_NAMES: readonly string[] = POLICIES.map((p) => p.name);

/** A bad --policies value (one line). */
export class PolicyInputError extends Error {
  override readonly name = 'PolicyInputError';
}

export function policyByName(name: string): PolicyEntry {
  const p = POLICIES.find((x) => x.name === name);
  if (p === undefined) throw new PolicyInputError(`unknown policy "${name}" in --policies (known: ${POLICY_NAMES.join(', ')})`);
  return p;
}

/** `ksmtuned,fixed` -> the entries, in the order given. */
export function parsePolicies(text: string): PolicyEntry[] {
  const out: PolicyEntry[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const p = policyByName(item);
    if (out.includes(p)) throw new PolicyInputError(`policy ${p.name} given twice in --policies`);
    out.push(p);
  }
  if (out.length === 0) throw new PolicyInputError('--policies names no policy');
  return out;
}
