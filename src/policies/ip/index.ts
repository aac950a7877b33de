import type { JsonObject } from '../../core/json.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { IpRangeSet, parseIp } from './address.js'
import { rules } from './rules.js'
import { IpConfig } from './schema.js'

/**
 * `ip`: refuses clients by address before anything else runs. Deny wins over allow; a
 * non-empty allow list refuses everyone outside it. Ranges are parsed once per config load,
 * so a request costs one parse of `ctx.clientIp` and a scan of integer ranges.
 */
export const ipPolicy = definePolicy({
  name: 'ip',
  configKey: 'ip',
  order: 100,
  schema: IpConfig,
  rules,
  compile(config, deps) {
    const allowList = new IpRangeSet(config.allow)
    const denyList = new IpRangeSet(config.deny)
    const where = `routes[${deps.routeName}].policies.ip`
    if (allowList.size === 0 && denyList.size === 0) return () => allow()

    return function evaluateIp(ctx): Verdict {
      const address = parseIp(ctx.clientIp)
      if (address === undefined) {
        // Only reachable through a gateway bug; with a list configured we cannot prove the
        // caller is acceptable, so refuse rather than wave it through.
        return deny(allowList.size > 0 ? rules.notAllowed : rules.denied, {
          message: 'The client address of this request could not be determined.',
          remediation: `The gateway produced an unparsable client ip; check the trusted proxy settings in front of ${where}.`,
          detail: { clientIp: ctx.clientIp, reason: 'unparsable client ip' },
        })
      }
      const denied = denyList.size === 0 ? undefined : denyList.find(address)
      if (denied !== undefined) {
        return deny(rules.denied, {
          message: `Requests from ${ctx.clientIp} are refused on this route.`,
          remediation: `Remove '${denied}' from ${where}.deny if ${ctx.clientIp} should get through (deny wins over allow).`,
          detail: factsOf(ctx.clientIp, ctx.remoteAddress, { matched: denied }),
        })
      }
      if (allowList.size > 0 && !allowList.has(address)) {
        return deny(rules.notAllowed, {
          message: `Requests from ${ctx.clientIp} are not accepted on this route.`,
          remediation:
            `Add '${ctx.clientIp}' or its network to ${where}.allow. If the gateway sits behind a proxy, ` +
            'list that proxy in trustedProxies so the real client address is used.',
          detail: factsOf(ctx.clientIp, ctx.remoteAddress, { allowEntries: allowList.size }),
        })
      }
      return allow()
    }
  },
})

/** The client ip, plus the TCP peer when a proxy stood between: the first thing to check in a trace. */
function factsOf(clientIp: string, remoteAddress: string, extra: JsonObject): JsonObject {
  return clientIp === remoteAddress ? { clientIp, ...extra } : { clientIp, peer: remoteAddress, ...extra }
}
