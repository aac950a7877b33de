/** A legitimate value and the parameter it travels in. */
export interface BenignValue {
  param: string
  value: string
}

const of = (param: string, list: string[]): BenignValue[] => list.map((value) => ({ param, value }))

/**
 * Tricky legitimate input: text that shares words or characters with attacks. A WAF that blocks
 * these hurts real users; the goal is ≤ 2% blocked at paranoia 1.
 */
export const trickyValues: BenignValue[] = [
  ...of('name', ["O'Brien", "Miles O'Reilly", "D'Angelo Russell", "Jean-Luc d'Artagnan", "Renée O'Connor-Smith", "Shaquille O'Neal", "'t Hooft", 'Mr. Null']),
  ...of('address', ['12 Select Court', '4 Union Street, Apt 3', '7 Drop Lane', '1 Where Ave', 'Order Road 5', '99 Table Rock Rd', 'Script Close 2', '10 Exec Plaza']),
  ...of('comment', [
    'The union voted to drop the proposal and select a new chair.',
    "I'll update my order and select a new size",
    "Please delete from my cart the blue one; I'll add it later",
    'We need to insert into the report a table of results',
    'Prices: $5 & up, shipping 10% off',
    'math: 1<2 and 3>2, so x < y',
    'If a > b and b > c then a > c',
    'Wait -- I think that is wrong',
    'Great product -- would buy again!!!',
    "Don't forget: it's 5 o'clock somewhere",
    "C'est la vie, l'été est là et j'aime ça",
    "Qu'est-ce que c'est ? Aujourd'hui j'ai mangé",
    'Das ist Peter\'s Auto, er hat\'s gestern gekauft',
    'Ich möchte die Bestellung ändern – bitte die Größe "M" auswählen',
    'He said "hello" and she said "goodbye"',
    'Use **bold** and _italic_ in markdown, `code` too',
    '# Heading\n\n- item one\n- item two\n\n[link](https://example.com/page?x=1&y=2)',
    '| id | name |\n|----|------|\n| 1 | cat |',
    'My cat & dog love this food; more please',
    'Salt & pepper; cat treats; dog toys',
    'Tom & Jerry | cartoon | 1940',
    'I selected 2 items from the list where the price was lowest',
    'Can you please drop me an email at jane.doe@example.com?',
    'version 1.2.3 -> 1.2.4; see changelog',
    'Rock & roll; sleep well tonight',
    'Q&A session at 5pm; bring questions',
    'The ratio was 3/4 or 0.75, i.e. 75%',
    'She wrote: "I\'m fine", then left.',
    'Use the command line to list files',
    'I love JavaScript: the good parts, great book',
    'Search for javascript: the good parts',
    'Alert: your order has shipped!',
    'My script for the play is ready',
    'The <b>bold</b> tag makes text bold',
    'Type 1 or 2 for options',
    'Contact us: support@example.com or +1 (555) 123-4567',
    'It costs 10€ or £8, about ¥1200',
    'x = a * b + c / d - e',
    '5 * 3 = 15 and 10 / 2 = 5',
    '{{ name }} is a mustache placeholder in our email templates',
    'Hello ${firstName}, your order is ready',
    'Path to file: docs/guide/intro.md',
    'See ../README.md for details',
    'The answer is 42; or is it?',
    'Use ; to separate statements',
    'emoji 😀 and accents é à ü',
    'C:\\Users\\Public\\Documents is where the file lives',
    'Order #12345 - please expedite',
    "It's a 'quoted' word and a \"double\" one",
    'Is 1=1? Always, mathematically.',
    'one or two or three',
    'Cats and dogs; birds or fish',
    'We exec the plan tomorrow; ping me if needed',
    'I will cat the logs tomorrow and grep for errors',
  ]),
  ...of('description', [
    'for (let i = 0; i < n; i++) { total += i; }',
    'SELECT name, price FROM products WHERE price < 10 ORDER BY price',
    'const x = arr.filter(v => v > 2).map(v => v * 2)',
    'if (a && b || !c) { return; }',
    'def add(a, b):\n    return a + b',
    'console.log("hello world")',
    'npm install --save express',
    'git commit -m "fix: handle null values"',
    'docker run -p 8080:80 nginx',
    'The function returns -1 when the item is not found',
    'Use array.select(x => x.id) in LINQ',
    'Run `ls -la` to see hidden files',
    'Set the header Content-Type: application/json',
    'Use <div class="row"> for the layout',
    'In CSS, use width: calc(100% - 2em);',
    "Python: print(f'{name} is {age}')",
    'Regex: ^[a-z]+$',
    'The SQL keyword UNION combines results',
  ]),
  ...of('url', [
    'https://example.com/search?q=shoes&size=10',
    'https://shop.example.com/products/42?ref=homepage&utm_source=news',
    'http://localhost:3000/callback?code=abc123&state=xyz',
    'https://cdn.example.com/images/photo.png',
    'mailto:someone@example.com?subject=Hello',
    'https://example.com/path/with/many/segments/',
    'https://www.example.org/wiki/Union_(set_theory)',
  ]),
  ...of('link', ['../docs/intro.html', './images/logo.png', '../index.html#section-2']),
  ...of('image', [
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/',
  ]),
  ...of('filename', ['backup.sql.gz', 'report-2024.pdf', 'my photo (1).jpg', 'select-results.csv', 'drop_shipping.xlsx', 'union-agreement.docx', 'script.js', 'passwd-reset-guide.pdf']),
  ...of('email', ['jane.doe+orders@example.com', "o'brien@example.ie", 'user_name@sub.example.co.uk']),
  ...of('q', ['javascript: the good parts', 'drop shipping', 'select comfort mattress', 'union jack flag', 'how to exec a script', 'rock & roll', 'cats vs dogs', 'c++ tutorial', 'what is 1+1', '50% off', 'T-shirt (large)', 'node.js require module', 'alert sound', 'insert coin', 'null pointer exception', 'sleep 8 hours', 'etc etc', 'passwd meaning', 'where is my order', '1 or 2 people']),
]

/** Ordinary API traffic: must never be blocked. */
export const ordinaryValues: BenignValue[] = [
  ...of('q', ['laptop', 'red shoes', 'iphone 15 case', 'coffee beans 1kg', 'birthday gift for mom']),
  ...of('id', ['12345', 'a1b2c3d4', '550e8400-e29b-41d4-a716-446655440000', '01HF3Z8Q7G']),
  ...of('page', ['2', 'about', 'home', 'products']),
  ...of('sort', ['price_asc', '-created_at', 'name']),
  ...of('name', ['Jane Doe', 'José García', 'Zoë Müller', '李小龙']),
  ...of('comment', ['Thanks for the fast delivery!', 'Could you gift wrap it please?', 'Leave at the back door.']),
  ...of('token', ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.4pcPyMD09olPSyXnrXCjTwXyr4BsezdI1AVTmud2fU4', 'dGhpcyBpcyBiYXNlNjQ=']),
  ...of('date', ['2024-03-19T09:42:00Z', '19/03/2024']),
  ...of('amount', ['19.99', '-5', '1e3']),
]

/** Everyday API and forum content: GraphQL, search syntax, brand names, code talk, CSS, other scripts. */
export const everydayValues: BenignValue[] = [

  'query { user(id: 1) { name orders(first: 10) { id total } } }', 'mutation { createOrder(input: {sku: "A-1", qty: 2}) { id } }', 'query($id: ID!) { node(id: $id) { ... on User { name } } }',
  'shoes -red', '"exact phrase" site:example.com', 'How to use SELECT ... WHERE in Postgres?', "Why does my bash script fail with 'command not found'?", 'Python os.system vs subprocess: which one?',
  'Saved to C:\\Users\\me\\Desktop\\notes.txt', '/account/orders?id=5', '%2Fdashboard', 'https://app.example.com/callback?state=xyz', '{"status":"open","tags":["a","b"]}', '[1,2,3]',
  'Apt #4B, 2nd floor', '+44 (0)20 7946 0958', 'Ünïcödé tëxt — “smart quotes” and ‘single’ ones', 'Size: 10½; colour: navy/white', 'Buy 2, get 1 free!!! (limited time)',
  'Review: 5/5 — would recommend; shipping was fast & cheap', 'The <b> tag is deprecated? No, <strong> is preferred.', 'rm -rf node_modules && npm install', 'SELECT * FROM users; -- do not run in prod',
  "Type 'yes' to confirm", "Bobby's order #123 -- urgent!", 'He wrote "drop everything" and left', 'select-all checkbox', 'order-by-date', "'quoted'", '"double"', '`backticks`',
  'Mr. & Mrs. Smith', 'Johnson & Johnson', "L'Oréal Paris", "McDonald's", "Toys\"R\"Us", 'AT&T; Verizon; T-Mobile', '50% off; today only', '3 < 5 > 1', 'a=b&c=d', 'key: value; other: thing',
  'The function exec() runs code', 'system failure at 3am', 'eval is evil', 'import os', 'process.env.NODE_ENV', '${HOME}/bin', '~/.bashrc', '%APPDATA%\\Microsoft', '#hashtag #another', '@mention',
  'SGVsbG8sIFdvcmxkIQ==', 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc-def_ghi', 'd41d8cd98f00b204e9800998ecf8427e', 'pk_live_51H8x2bCdEfGhIjKlMnOpQrSt',
  '<p>Thanks for your order!</p>', 'Use && to chain commands in bash', 'In SQL, use OR to combine conditions', 'What does 1=1 mean in SQL injection?', 'I love <3 this', "It's O.K.; really",
  'Wählen Sie Ihre Größe aus', 'Sélectionnez votre taille; merci', '选择尺码', 'Выберите размер', 'サイズを選択', '-- Sent from my iPhone', 'P.S. -- call me', '/* not a comment */',
  'width: 100%; height: auto;', 'font-family: "Helvetica Neue", Arial', 'color: #ff0000 !important', 'C# and F# are languages', 'Node.js v20; Deno 1.40', 'Windows 10 / macOS 14 / Ubuntu 22.04',
  "Don't -- I repeat, don't -- click that", 'Insert coin; select game; press start', 'union station, chicago', 'Script writing class; drop-in welcome', 'The alert was a false alarm',
].map((value) => ({ param: 'text', value }))

/**
 * A developer forum's posts: rich-text HTML, Markdown, SQL and shell snippets. A few are
 * indistinguishable from attacks (a literal <script src> tag) and are expected to be blocked.
 */
export const developerValues: BenignValue[] = [

  '<p>Hello <strong>world</strong></p>', '<a href="https://example.com/docs">the docs</a>', '<img src="https://cdn.example.com/a.png" alt="diagram">',
  '<ul><li>one</li><li>two</li></ul>', '<h2>Title</h2><p>Some <em>text</em> and a <code>snippet</code></p>', '<blockquote>quote</blockquote>',
  '<p style="color: red">warning</p>', '<table><tr><td>1</td></tr></table>', '<iframe src="https://www.youtube.com/embed/abc123"></iframe>',
  '![diagram](https://cdn.example.com/a.png)', '```sql\nSELECT id, name FROM users WHERE active = 1;\n```', '```js\nfetch("/api/x").then(r => r.json())\n```',
  "UPDATE users SET name = 'bob' WHERE id = 3;", "INSERT INTO t (a) VALUES ('x');", 'DELETE FROM sessions WHERE expires < now()', 'DROP TABLE IF EXISTS tmp;',
  'The query `SELECT * FROM orders WHERE id = $1` is parameterised', "grep -r 'TODO' src/ | wc -l", 'curl -X POST https://api.example.com/v1/orders -H "Content-Type: application/json"',
  'cat /var/log/syslog | grep error', 'sudo apt-get install nginx', 'ssh user@host.example.com', 'python3 -m venv .venv && source .venv/bin/activate',
  'npm run build && npm test', 'chmod +x deploy.sh; ./deploy.sh', "echo 'hello' > file.txt", 'ls -la ~/projects', 'export PATH=$PATH:/usr/local/bin',
  'if (x < 10 && y > 5) { alert("ok") }', 'document.getElementById("app")', 'window.location.href = "/home"', '<script src="/static/app.js"></script>',
  'const re = /^[a-z]+$/i;', 'SELECT COUNT(*) FROM t', "It's 10 o'clock; time for bed", 'Q: What\'s 1+1? A: 2', 'a/b/c/../d', '../', './config.json',
  '{"name": "O\'Brien", "quote": "He said \\"hi\\""}', '[link](../other-page.md)', 'C:\\Windows\\Temp\\log.txt', '/home/user/Documents/report.pdf', '/etc/nginx/nginx.conf is where the config lives',
  'mailto:a@b.com', 'tel:+15550100', 'https://example.com/?redirect=https%3A%2F%2Fother.example.com%2Fpath', 'ftp://ftp.example.com/pub/file.zip',
  'The ${price} placeholder', '{{user.name}}', 'Use %s and %d in printf', '50%25 off', 'rock&roll', '1 OR 2 bedrooms', 'true or false?', 'on error resume next',
  'Call me at 555-0100 or email me', "Don't use eval() in production", 'system requirements: 8GB RAM', 'exec summary attached', 'The union of A and B', 'Select your country',
  'Alert: the server is down', 'onload event fires after DOM ready', 'Use onclick="handler()" sparingly', 'set onerror to a function', 'javascript:void(0) links are bad practice',
  'base64: SGVsbG8gV29ybGQ=', 'Hash: 5f4dcc3b5aa765d61d8327deb882cf99', 'UUID 123e4567-e89b-12d3-a456-426614174000', 'ISO date 2024-03-19T09:42:00+01:00',
  "O'Reilly Media; O'Neil & Sons", 'Prices from $5 & up; shipping < $10', 'Use <br/> or <br>', 'x<y>z', '<3 love it', '5 > 3 and 2 < 4',
].map((value) => ({ param: 'body', value }))
