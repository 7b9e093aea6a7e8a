/**
 * ARIA tabs (WAI-ARIA Authoring Practices "Tabs"): click or Enter selects, Left/Right/Home/End
 * move between tabs, only the selected tab is in the Tab order, each tab shows its panel.
 */
export function setUpTabs(list: HTMLElement, onSelect: (tab: HTMLElement) => void = () => undefined): (id: string) => void {
  const tabs = [...list.querySelectorAll<HTMLElement>('[role="tab"]')];
  const select = (tab: HTMLElement, focus: boolean): void => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(other.getAttribute('aria-controls') ?? '');
      if (panel !== null) panel.hidden = !selected;
    }
    if (focus) tab.focus();
    onSelect(tab);
  };
  for (const tab of tabs) {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (event) => {
      const index = tabs.indexOf(tab);
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      if (target !== undefined) select(target, true);
    });
  }
  return (id) => {
    const tab = tabs.find((candidate) => candidate.id === id);
    if (tab !== undefined) select(tab, false);
  };
}
