import type { Rule } from '../../core/denial.js'

/** Rules of the `ip` layer; the only place their ids are spelled. */
export const rules = {
  denied: {
    id: 'ip.denied',
    status: 403,
    title: 'Client address denied',
    meaning: "The client's ip address is inside an entry of the route's ip deny list.",
    remedy: 'Your network address is not allowed to call this API. Contact the API operator if you think this is wrong.',
  },
  notAllowed: {
    id: 'ip.not-allowed',
    status: 403,
    title: 'Client address not allowed',
    meaning: "The route has an ip allow list and the client's ip address is in none of its entries.",
    remedy: 'This API only accepts calls from approved networks. Call it from an approved network or ask the API operator to add yours.',
  },
} as const satisfies Record<string, Rule>
