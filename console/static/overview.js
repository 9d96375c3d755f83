// Overview charts (Chart.js from npm, served by the console itself).
(() => {
  'use strict';
  const box = document.getElementById('charts');
  if (!box || typeof Chart === 'undefined') return;
  const colors = ['#6d1a36', '#c58b2b', '#3b7a57', '#4a6fa5', '#8e8e8e', '#b5485d', '#6b5b95'];
  const labels = { socketio: 'Web chat', twilio: 'SMS', rest: 'REST API', unknown: 'Unknown' };

  fetch(`/api/overview?from=${box.dataset.from}&to=${box.dataset.to}`, { credentials: 'same-origin' })
    .then((r) => r.json())
    .then((data) => {
      const days = data.days;
      new Chart(document.getElementById('chart-conversations'), {
        type: 'bar',
        data: { labels: days, datasets: Object.entries(data.conversations_by_channel).map(([k, v], i) => (
          { label: labels[k] || k, data: v, backgroundColor: colors[i % colors.length] })) },
        options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
      });
      new Chart(document.getElementById('chart-rates'), {
        type: 'line',
        data: { labels: days, datasets: [
          { label: 'Fallback rate', data: data.fallback_rate, borderColor: colors[0], spanGaps: true },
          { label: 'Hand-off rate', data: data.handoff_rate, borderColor: colors[1], spanGaps: true }] },
        options: { animation: false, scales: { y: { beginAtZero: true, ticks: { format: { style: 'percent' } } } } },
      });
      new Chart(document.getElementById('chart-intents'), {
        type: 'bar',
        data: { labels: data.top_intents.map((i) => i.intent),
          datasets: [{ label: 'Messages', data: data.top_intents.map((i) => i.count), backgroundColor: colors[3] }] },
        options: { animation: false, indexAxis: 'y' },
      });
      new Chart(document.getElementById('chart-ratings'), {
        type: 'bar',
        data: { labels: Object.keys(data.ratings),
          datasets: [{ label: 'Ratings', data: Object.values(data.ratings), backgroundColor: colors[2] }] },
        options: { animation: false },
      });
      box.dataset.ready = '1';
    });
})();
