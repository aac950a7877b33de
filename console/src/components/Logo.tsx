/** The Gatehouse mark: a gate in a shield, drawn inline (no icon font, no network). */
export function Logo({ size = 26 }: { size?: number }) {
  return (
    <svg className="brand-mark" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="#f59f00" />
      <path d="M16 5l9 3.5v7c0 5.6-3.8 9.7-9 11.5-5.2-1.8-9-5.9-9-11.5v-7z" fill="#1f3a5f" />
      <path d="M12 23v-7a4 4 0 0 1 8 0v7" fill="none" stroke="#fff" strokeWidth="2" />
      <path d="M16 12v11M12 18h8" stroke="#fff" strokeWidth="1.5" />
    </svg>
  )
}
