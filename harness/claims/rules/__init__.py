"""The rule functions, one module per topic. Each rule is `rule(rows, entry) -> Verdict`, registered by
`@rule` under the name a registry entry's `rule:` gives; harness.claims.registry imports every module
here, so a new rule needs no other edit."""
