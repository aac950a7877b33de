import { useRef, useState, type ChangeEvent } from 'react'
import type { ImportResult } from '../api.js'
import { useSession } from '../session.js'
import { PageHeader, ProblemBox, downloadText, useAction } from '../components/ui.js'

/** `{ created: 1, changed: 0, deleted: 2 }` → "1 created, 2 deleted". */
function describeCount(value: unknown): string {
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).filter(([, n]) => typeof n === 'number' && n > 0).map(([k, n]) => `${String(n)} ${k}`)
    return parts.length ? parts.join(', ') : 'unchanged'
  }
  return String(value)
}

function Counts({ title, result }: { title: string; result: ImportResult }) {
  const entries = Object.entries(result.applied ?? result.wouldApply ?? {})
  return (
    <div className="notice" role="status" data-testid="import-result">
      <strong>{title}</strong>
      {result.changes === 0 || entries.length === 0 ? <p>No changes: the running config already matches.</p> : null}
      {entries.length > 0 ? (
        <dl className="counts">
          {entries.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{describeCount(v)}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {result.ignored?.length ? <p className="hint">Not changed by an import (set at start): {result.ignored.join(', ')}.</p> : null}
      {result.warnings?.length ? (
        <ul className="problem-errors">
          {result.warnings.map((w, i) => (
            <li key={i}>
              warning{w.line !== undefined ? ` at line ${w.line}` : ''}: {w.field ? <code>{w.field}</code> : null} {w.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}

export function ConfigPage() {
  const { call, me } = useSession()
  const isAdmin = me.role === 'admin'
  const [yaml, setYaml] = useState('')
  const [preview, setPreview] = useState<string>()
  const [result, setResult] = useState<{ title: string; result: ImportResult }>()
  const [checked, setChecked] = useState<string>()
  const area = useRef<HTMLTextAreaElement>(null)

  const exportConfig = useAction(async (download: boolean) => {
    const text = await call<string>('/api/config/export', { text: true })
    if (download) downloadText(`gatehouse-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.yaml`, text, 'application/yaml')
    else setPreview(text)
  })
  const importConfig = useAction(async (dryRun: boolean) => {
    setResult(undefined)
    const answer = await call<ImportResult>(`/api/config/import${dryRun ? '?dryRun=true' : ''}`, { method: 'POST', body: yaml, contentType: 'application/yaml' })
    if (dryRun) {
      setChecked(yaml)
      setResult({ title: `Dry run: valid. Applying would make ${answer.changes ?? 'these'} change${answer.changes === 1 ? '' : 's'}:`, result: answer })
    } else {
      setChecked(undefined)
      setResult({ title: 'Applied. The gateway runs the imported config now.', result: answer })
    }
  })

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0]
    if (!file) return
    if (file.size > 1024 * 1024) {
      window.alert('That file is over 1 MiB; a Gatehouse config is much smaller.')
      return
    }
    setYaml(await file.text())
    setChecked(undefined)
    setResult(undefined)
    importConfig.clear()
  }

  /** Puts the caret on the line an error names. */
  const jumpTo = (line: number, col = 1) => {
    const el = area.current
    if (!el) return
    const lines = yaml.split('\n')
    let offset = 0
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1
    el.focus()
    el.setSelectionRange(offset + Math.max(0, col - 1), offset + (lines[line - 1]?.length ?? 0))
  }

  const errors = importConfig.error?.problem.errors ?? []

  return (
    <>
      <PageHeader title="Config" subtitle="The running config (file plus changes made here) as YAML: export it, or import one." />
      <section className="card" aria-labelledby="export-title">
        <h2 id="export-title">Export</h2>
        <p className="hint">Admin tokens are redacted. Keys appear only as hashes.</p>
        <div className="buttons">
          <button type="button" className="button primary" disabled={exportConfig.busy} onClick={() => void exportConfig.run(true)}>
            Download YAML
          </button>
          <button type="button" className="button" disabled={exportConfig.busy} onClick={() => void exportConfig.run(false)}>
            Show here
          </button>
        </div>
        <ProblemBox error={exportConfig.error} onDismiss={exportConfig.clear} />
        {preview ? <pre className="code-view">{preview}</pre> : null}
      </section>
      {isAdmin ? (
        <section className="card" aria-labelledby="import-title">
          <h2 id="import-title">Import</h2>
          <p className="hint">Paste or upload a config. Check it with a dry run first: nothing changes until you apply.</p>
          <div className="field">
            <label htmlFor="import-file">Upload a YAML file</label>
            <input id="import-file" type="file" accept=".yaml,.yml,application/yaml,text/yaml,text/plain" onChange={(e) => void onFile(e)} />
          </div>
          <div className="field">
            <label htmlFor="import-yaml">YAML</label>
            <textarea
              id="import-yaml"
              ref={area}
              className="code"
              rows={16}
              spellCheck={false}
              value={yaml}
              placeholder={'routes:\n  - name: orders\n    match: { path: /orders/* }\n    upstream: orders'}
              onChange={(e) => {
                setYaml(e.target.value)
                setResult(undefined)
              }}
            />
          </div>
          <div className="buttons">
            <button type="button" className="button" disabled={!yaml.trim() || importConfig.busy} onClick={() => void importConfig.run(true)}>
              Dry run
            </button>
            <button
              type="button"
              className="button primary"
              disabled={!yaml.trim() || importConfig.busy || checked !== yaml}
              title={checked !== yaml ? 'Run a dry run of this text first' : undefined}
              onClick={() => {
                if (window.confirm('Apply this config to the running gateway?')) void importConfig.run(false)
              }}
            >
              Apply
            </button>
          </div>
          {importConfig.error ? (
            <div className="problem" role="alert" data-testid="import-errors">
              <div className="problem-head">
                <strong>{importConfig.error.problem.title}</strong>
                <span className="problem-status">{importConfig.error.status || ''}</span>
              </div>
              {importConfig.error.problem.detail ? <p>{importConfig.error.problem.detail}</p> : null}
              {errors.length > 0 ? (
                <ul className="problem-errors">
                  {errors.map((e, i) => (
                    <li key={i}>
                      {e.line !== undefined ? (
                        <button type="button" className="link-button" onClick={() => jumpTo(e.line!, e.col)}>
                          line {e.line}
                          {e.col !== undefined ? `:${e.col}` : ''}
                        </button>
                      ) : null}{' '}
                      {e.field ? <code>{e.field}</code> : null} {e.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
          {result ? <Counts title={result.title} result={result.result} /> : null}
        </section>
      ) : (
        <p className="hint">Importing a config needs an admin token.</p>
      )}
    </>
  )
}

