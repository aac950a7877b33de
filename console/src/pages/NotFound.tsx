import { Link } from 'react-router'

export function NotFound() {
  return (
    <div className="card">
      <h1>Nothing here</h1>
      <p>
        This page does not exist. Go to the <Link to="/">dashboard</Link>.
      </p>
    </div>
  )
}
