// Stablegate settings screen: "Test connection" (the server runs the doctor's checks; the RPC URL
// never leaves the server unless the merchant just typed it) and live address validation with the
// core's web build, the same parser the server and the widget use.
const config = window.stablegateAdmin || {};

// Test networks nobody configured are folded away: thirteen networks × two rows otherwise.
(() => {
  const rows = (config.testnets || [])
    .flatMap((id) => [`rpc_${id}`, `confirmations_${id}`])
    .map((key) => document.getElementById(`woocommerce_stablegate_${key}`))
    .filter(Boolean)
    .map((input) => input.closest('tr'));
  if (!rows.length) return;
  for (const row of rows) row.hidden = true;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button stablegate-show-testnets';
  button.textContent = `${config.showTestnets} (${config.testnets.length})`;
  button.addEventListener('click', () => {
    for (const row of rows) row.hidden = false;
    button.remove();
  });
  const cell = document.createElement('td');
  cell.colSpan = 2;
  cell.append(button);
  const tr = document.createElement('tr');
  tr.append(cell);
  rows[0].before(tr);
})();

for (const button of document.querySelectorAll('.stablegate-test-connection')) {
  button.addEventListener('click', async () => {
    const network = button.dataset.network;
    const out = button.parentElement.querySelector('.stablegate-test-result');
    const input = document.getElementById(`woocommerce_stablegate_rpc_${network}`);
    out.textContent = '…';
    try {
      const response = await fetch(config.rest, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-WP-Nonce': config.nonce },
        body: JSON.stringify({ network, rpc_url: input ? input.value : '' }),
      });
      const body = await response.json();
      out.textContent = response.ok
        ? body.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`).join(' · ')
        : body.message;
      out.style.color = response.ok && body.ok ? 'green' : '#b32d2e';
    } catch (error) {
      out.textContent = String(error);
    }
  });
}

(async () => {
  const fields = document.querySelectorAll('textarea.stablegate-address');
  if (!fields.length || !config.core) return;
  let core;
  try {
    core = await import(config.core);
    await core.default();
  } catch (error) {
    return; // The server validates on save anyway.
  }
  const network = { evm: 'ethereum', tron: 'tron' };
  for (const field of fields) {
    const note = document.createElement('p');
    note.className = 'description stablegate-address-check';
    field.after(note);
    const check = () => {
      const problems = [];
      for (const line of field.value.split(/[\s,]+/).filter(Boolean)) {
        try {
          core.parseAddress(network[field.dataset.family], line);
        } catch (error) {
          problems.push(`${line}: ${error.message}`);
        }
      }
      note.textContent = problems.length ? problems.join(' · ') : field.value.trim() ? '✓' : '';
      note.style.color = problems.length ? '#b32d2e' : 'green';
      field.setCustomValidity(problems.join('; '));
    };
    field.addEventListener('input', check);
    check();
  }
})();
