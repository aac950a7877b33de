import { z } from 'zod'

// A field path as shown in traces: `json.address.line1`, `query.q`, `header.referer`, `xml.order@id`.
const FieldPath = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?:path|query|header|cookie|json|form|multipart|xml|body|keys)(?:[.[@].*)?$/, {
    message: 'must start with path, query, header, cookie, json, form, multipart, xml, body or keys (e.g. json.description)',
  })

// A signature id (`sqli-001`) or a family name (`sqli`, `code-injection`), or `*` for all.
const RuleRef = z
  .string()
  .min(1)
  .max(60)
  .regex(/^(?:\*|[a-z]+(?:-[a-z]+)*(?:-\d{3})?)$/, { message: "must be a rule id like 'sqli-001', a family like 'xss', or '*'" })

const Exclusion = z
  .object({
    rules: z
      .array(RuleRef)
      .min(1)
      .max(100)
      .describe(
        "Signatures this exclusion switches off: rule ids such as 'sqli-001', family names (sqli, xss, lfi, rfi, rce, " +
          "code-injection, protocol, scanner) or '*' for every rule.",
      ),
    fields: z
      .array(FieldPath)
      .min(1)
      .max(100)
      .describe(
        'Request fields the rules are not applied to, as field paths or prefixes: json.description also covers ' +
          'json.description.text and json.description[0]; header.referer, query.q, cookie.session, form.comment, ' +
          'multipart.bio, xml.order.note, xml.order@id.',
      ),
  })
  .strict()
  .describe('Lets a known-good field through for some signatures. A blocked request\'s trace shows the exclusion that would let it pass.')

/** Config of the `waf` policy: `routes[].policies.waf`. */
export const WafConfig = z
  .object({
    mode: z
      .enum(['block', 'detect'])
      .default('block')
      .describe(
        "block: refuse requests whose anomaly score reaches the threshold (403). detect: let them through but record in " +
          "the trail what would have been blocked, for tuning. Default: block.",
      ),
    paranoia: z
      .number()
      .int()
      .min(1)
      .max(4)
      .default(1)
      .describe(
        'Paranoia level, 1 to 4: only signatures of this level or lower run. 1 catches common attacks with almost no ' +
          'false positives; each higher level adds stricter signatures that also flag more legitimate input. Default: 1.',
      ),
    threshold: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe(
        'Anomaly score at which a request is blocked. Each matching signature adds its severity: critical 5, error 4, ' +
          'warning 3, notice 2. With the default, one critical match blocks. Default: 5.',
      ),
    inspectBody: z
      .boolean()
      .default(true)
      .describe(
        'When true, the body is read and inspected: JSON, application/x-www-form-urlencoded, multipart/form-data and XML, ' +
          'up to 64 KiB per value and 1 MiB in total (the rest is not inspected). Other bodies are inspected as text. Default: true.',
      ),
    exclusions: z
      .array(Exclusion)
      .max(200)
      .default([])
      .describe('Signatures not to apply to given fields, to fix false positives without lowering protection elsewhere. Default: none.'),
    timeoutMs: z
      .number()
      .min(0.1)
      .max(1000)
      .default(10)
      .describe(
        'Longest time the rule engine may spend on one request, in milliseconds; a run cut short by a busy machine is ' +
          'retried once, so a request costs at most twice this. About 200 short text fields fit in 5 ms. Default: 10.',
      ),
    onError: z
      .enum(['open', 'closed'])
      .default('open')
      .describe(
        'What to do when inspection does not finish (the timeout above, or an engine error): open lets the request ' +
          "through with a note in the trail; closed refuses it with waf.engine-error (403). Default: open, so a slow " +
          'engine never takes the API down.',
      ),
  })
  .strict()
  .describe('Web application firewall: scores the request against attack signatures (libddwaf) and blocks at the threshold.')

export type WafConfig = z.output<typeof WafConfig>
export type WafExclusion = z.output<typeof Exclusion>
