import { useState, type FormEvent } from 'react'
import { ApiError } from '../api.js'
import { ProblemBox, useAction } from './ui.js'

/**
 * Edits one config object as JSON text; a parse error is shown where it is, and the gateway's
 * 400 (naming the field) is shown under the text.
 */
export function JsonEditor({ title, initial, onSave, onCancel, hint }: { title: string; initial: unknown; onSave: (value: unknown) => Promise<void>; onCancel: () => void; hint?: string }) {
  const [text, setText] = useState(() => JSON.stringify(initial, null, 2))
  const save = useAction(async () => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new ApiError({ title: 'Not valid JSON', status: 0, detail: (error as Error).message })
    }
    await onSave(value)
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    void save.run()
  }
  const id = `editor-${title.replace(/\W+/g, '-').toLowerCase()}`
  return (
    <form className="card editor" onSubmit={submit}>
      <label htmlFor={id}>
        <strong>{title}</strong>
      </label>
      {hint ? <p className="hint">{hint}</p> : null}
      <textarea id={id} className="code" spellCheck={false} rows={Math.min(28, Math.max(8, text.split('\n').length + 1))} value={text} onChange={(e) => setText(e.target.value)} />
      <ProblemBox error={save.error} />
      <div className="buttons">
        <button type="submit" className="button primary" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="button ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
