// The 1 KB POST body `npm run bench` sends through key auth + WAF + call log, shared with
// bench/waf.js so its per-request WAF figure is for exactly that body.
// A realistic order: ids, numbers, prose with apostrophes and ampersands, an address.
const order = {
  id: 'ord_01HF3Z8Q7G', currency: 'EUR', total: 49.48,
  customer: { name: "Miles O'Brien", email: 'miles.obrien@example.com', phone: '+1 555 0100' },
  address: { line1: '12 Select Court', line2: 'Apt 4', city: 'Springfield', zip: '12345', country: 'US' },
  items: [
    { sku: 'TSHIRT-M-BLUE', qty: 2, price: 19.99, note: "Please gift wrap, it's a birthday present" },
    { sku: 'MUG-WHITE', qty: 1, price: 9.5, note: 'Handle with care & pack well' },
  ],
  comment: "I'll update my order and select a new size if needed. Thanks!",
  coupon: 'SPRING-2024', tags: ['gift', 'priority'],
}
const short = JSON.stringify(order)
export const orderBody = JSON.stringify({ ...order, notes: 'Delivery between 9 and 5 on weekdays. Leave with the neighbour at number 14 if nobody answers.'.repeat(8).slice(0, 1024 - short.length - 12) })
