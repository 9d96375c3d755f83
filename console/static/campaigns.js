// The compose form's live count: characters, GSM-7 or UCS-2, segments and the cost for everyone opted in
// (the preview page counts the chosen audience exactly, on the server: core/outreach.py estimate()).
(function () {
  "use strict";
  var box = document.getElementById("campaign-text");
  var out = document.getElementById("campaign-count");
  if (!box || !out) { return; }
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var ext = "^{}\\[~]|€\f";
  function count() {
    var text = box.value.trim();
    if (text.toUpperCase().indexOf("STOP") < 0) { text += " " + box.dataset.footer; }
    var gsm = true, units = 0, i, ch;
    for (i = 0; i < text.length; i++) { ch = text[i]; if (basic.indexOf(ch) < 0 && ext.indexOf(ch) < 0) { gsm = false; } }
    if (gsm) { for (i = 0; i < text.length; i++) { units += ext.indexOf(text[i]) >= 0 ? 2 : 1; } }
    else { units = text.length; }
    var single = gsm ? 160 : 70, per = gsm ? 153 : 67;
    var segments = units <= single ? 1 : Math.ceil(units / per);
    var cost = segments * Number(box.dataset.recipients) * Number(box.dataset.cost);
    out.textContent = text.length + " characters, " + (gsm ? "GSM-7" : "UCS-2") + ", " + segments + " segment" +
      (segments === 1 ? "" : "s") + " per text; about $" + cost.toFixed(2) + " for everyone opted in (" +
      box.dataset.recipients + "). \"Reply STOP to opt out.\" is added unless the message says STOP.";
  }
  box.addEventListener("input", count);
  count();
}());
