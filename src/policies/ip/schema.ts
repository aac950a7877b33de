import { z } from 'zod'
import { isValidIpOrCidr } from './address.js'

const maxEntries = 10_000

const IpOrCidr = z
  .string()
  .max(120)
  .refine(isValidIpOrCidr, { error: (issue) => `'${String(issue.input)}' is not an IP address or CIDR` })

/** Config of the `ip` policy: `routes[].policies.ip`. */
export const IpConfig = z
  .object({
    allow: z
      .array(IpOrCidr)
      .max(maxEntries)
      .default([])
      .describe(
        'Addresses and CIDRs (IPv4 or IPv6, e.g. 10.0.0.0/8, 2001:db8::/32) that may call the route. ' +
          'When the list is not empty, every other client is refused with ip.not-allowed. ' +
          'IPv4 clients reaching an IPv6 socket (::ffff:1.2.3.4) match IPv4 entries. Default: empty (everyone).',
      ),
    deny: z
      .array(IpOrCidr)
      .max(maxEntries)
      .default([])
      .describe(
        'Addresses and CIDRs that are refused with ip.denied. Deny wins over allow: a client on both lists is refused. ' +
          'Default: empty.',
      ),
  })
  .strict()
  .describe('Filters callers by client ip (after trusted-proxy resolution of X-Forwarded-For). Runs first in the pipeline.')

export type IpConfig = z.output<typeof IpConfig>
