/**
 * Zero pages through the kernel's zero page: `use_zero_pages=1` (Linux
 * 4.12+, as 6.18 has it), then ksmd started with the boot knobs. What it
 * implies, in the 6.18 merger: an empty page is not put in either tree, it
 * is replaced by a mapping of the kernel's zero page (no KSM page, no stable
 * node; counted in ksm_zero_pages, and in general_profit), its checksum is
 * compared with the zero page's first; unmerging (run=2, MADV_UNMERGEABLE)
 * breaks those mappings too. Other pages still merge as usual: the mainline
 * kernel has no zero-pages-only mode (RHEL 9's redhat_only_zero_pages, the
 * base of KubeVirt's VEP 381 "zero-pages-only" mode, is not in any kernel
 * modelled here), so this is the mainline half of that idea.
 *
 *   echo 1 > use_zero_pages; echo 1 > run
 *
 * Eras without use_zero_pages (2.6.32, 3.9, v2, v1) are refused.
 */
import { lacks, type Policy, type PolicyContext, type PolicyEntry } from './policy.js';

export class ZeroPages implements Policy {
  start(ctx: PolicyContext): void {
    ctx.controls.write('use_zero_pages', 1);
    ctx.controls.write('run', 1);
    ctx.controls.flush();
  }
  nextWake(): null {
    return null;
  }
  wake(): void {}
}

export const ZERO_PAGES: PolicyEntry = {
  name: 'zero-pages',
  title: 'use_zero_pages=1: empty pages map the kernel zero page (ksm_zero_pages), ksmd on with the boot knobs',
  source: 'mm/ksm.c use_zero_pages (Linux 4.12+, as in 6.18)',
  refuse: (a) => lacks(a, ['use_zero_pages'], 'zero-pages', 'the zero-page merging of Linux 4.12'),
  create: () => new ZeroPages(),
};
