// Adds a blank row to an inline formset from its <template>. Without
// JavaScript each formset still offers one empty row per save.
document.querySelectorAll("button.add-row").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => {
    const prefix = button.dataset.prefix;
    const fieldset = button.closest("fieldset");
    const total = fieldset.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
    const template = fieldset.querySelector("template.empty-row");
    const index = Number(total.value);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    fieldset.querySelector("tbody").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  });
});
