import { Component, type ReactNode } from 'react'

/** Keeps one broken page from blanking the whole console: says what failed, offers a way back. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, { error?: Error }> {
  override state: { error?: Error } = {}

  static getDerivedStateFromError(error: Error) {
    return { error }
  }

  override componentDidUpdate(previous: { resetKey?: string }) {
    // Navigating elsewhere gives the next page a fresh start.
    if (this.state.error && previous.resetKey !== this.props.resetKey) this.setState({ error: undefined })
  }

  override render() {
    if (!this.state.error) return this.props.children
    return (
      <div className="problem" role="alert">
        <div className="problem-head">
          <strong>This page failed to render</strong>
        </div>
        <p>{this.state.error.message}</p>
        <button type="button" className="button small" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    )
  }
}
