/**
 * Which environment folder of gitops/ a stack's root Application syncs: its own, or, for a
 * disaster-recovery rebuild (`dr.sourceStack`), its source's. A rebuild re-declares exactly the
 * source's XRs, so Crossplane adopts the source's cloud resources by the names the naming contract
 * gives them (the rebuild keeps the source's naming.prefix), and no claim file is copied.
 * Stack names are environment names (test/config.spec.ts holds every stack to it).
 */
export function gitopsEnvironment(environment: string, sourceStack?: string): string {
  return sourceStack ?? environment;
}
