import { describe, expect, it } from 'vitest'
import { describeAdapterContract, testKey, useContractWorld } from './contract.js'
import { defaultAzureApiVersion } from './azure.js'

const world = useContractWorld('azure', 'gpt-4o-deploy')

describeAdapterContract({
  type: 'azure',
  model: 'gpt-4o-deploy',
  label: 'Azure OpenAI',
  hasEmbeddings: true,
  // The fake's "region" failure is Azure's network/firewall 403.
  causes: { 'rate-limited': 'rate-limited', quota: 'quota', overloaded: 'overloaded', 'server-error': 'server-error', region: 'forbidden', 'model-access': 'model-access' },
}, world)

describe('azure: what goes on the wire', () => {
  it('calls the deployment URL with api-version and the api-key header, not Authorization', async () => {
    await (await world.post('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] })).text()
    const seen = world.fake.requests.at(-1)!
    expect(seen.url).toBe(`/openai/deployments/gpt-4o-deploy/chat/completions?api-version=${defaultAzureApiVersion}`)
    expect(seen.headers['api-key']).toBe(testKey)
    expect(seen.headers.authorization).toBeUndefined()
  })

  it('maps a model to its deployment and uses the configured api-version', async () => {
    world.targets = [{ provider: { ...world.provider, apiVersion: '2025-01-01-preview', deployments: { 'gpt-4o': 'gpt-4o-deploy' } }, model: 'gpt-4o', requested: 'azure/gpt-4o' }]
    const response = await world.post('/v1/embeddings', { model: 'x', input: 'hi' })
    expect(response.status).toBe(200)
    expect(world.fake.requests.at(-1)!.url).toBe('/openai/deployments/gpt-4o-deploy/embeddings?api-version=2025-01-01-preview')
  })

  it('asks for stream usage only from api-versions that accept stream_options', async () => {
    world.targets = [{ provider: { ...world.provider, apiVersion: '2024-06-01' }, model: 'gpt-4o-deploy', requested: 'x' }]
    const before = world.harness.results.length
    await (await world.post('/v1/chat/completions', { model: 'x', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello world' }] })).text()
    const result = await world.harness.result(before + 1)
    expect(world.fake.requests.at(-1)!.body).not.toHaveProperty('stream_options')
    // No usage from Azure then: the gateway counts.
    expect(result.usage).toMatchObject({ estimated: true })
  })

  it('explains a missing deployment with the deployments remedy', async () => {
    world.targets = [{ provider: world.provider, model: 'gpt-missing', requested: 'x' }]
    const { result } = await world.call('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] })
    expect(result.error).toMatchObject({ cause: 'model-not-found', providerCode: 'DeploymentNotFound' })
    expect(result.error!.message).toContain("no deployment for model 'gpt-missing'")
    expect(result.error!.remedy).toContain('providers.primary.deployments')
  })

  it('skips the prompt_filter_results chunk Azure streams first', async () => {
    const text = await (await world.post('/v1/chat/completions', { model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text()
    expect(text).not.toContain('prompt_filter_results')
    expect(text).toContain('[DONE]')
  })
})
