package ops

import "strings"

// Product is one row of Microsoft's "Product names and service plan
// identifiers for licensing" table (learn.microsoft.com, Entra ID →
// licensing-service-plan-reference): subscribedSkus carries skuId and
// skuPartNumber but not the product name people know, so the name comes
// from here. Former names are kept because administrators still type them
// (Azure AD Premium P1, Visio Online Plan 2, Power BI (free), …).
type Product struct {
	SkuID      string
	PartNumber string
	Name       string
	Formerly   []string
}

// Products is the embedded table of common SKUs.
var Products = []Product{
	{"6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "Office 365 E3", nil},
	{"c7df2760-2c81-4ef7-b578-5b5392b571df", "ENTERPRISEPREMIUM", "Office 365 E5", nil},
	{"18181a46-0d4e-45cd-891e-60aabd171b4e", "STANDARDPACK", "Office 365 E1", nil},
	{"4b585984-651b-448a-9e53-3b10f069cf7f", "DESKLESSPACK", "Office 365 F3", nil},
	{"05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3", "Microsoft 365 E3", nil},
	{"06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5", "Microsoft 365 E5", nil},
	{"66b55226-6b4f-492c-910c-a3b7a3c9d993", "SPE_F1", "Microsoft 365 F3", nil},
	{"cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB", "Microsoft 365 Business Premium", nil},
	{"f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard", []string{"Office 365 Business Premium"}},
	{"3b555118-da6a-4418-894f-7df1e2096870", "O365_BUSINESS_ESSENTIALS", "Microsoft 365 Business Basic", []string{"Office 365 Business Essentials"}},
	{"cdd28e44-67e3-425e-be4c-737fab2899d3", "O365_BUSINESS", "Microsoft 365 Apps for business", nil},
	{"4b9405b0-7788-4568-add1-99614e613b69", "EXCHANGESTANDARD", "Exchange Online (Plan 1)", nil},
	{"f30db892-07e9-47e9-837c-80727f46fd3d", "FLOW_FREE", "Microsoft Power Automate Free", []string{"Microsoft Flow Free"}},
	{"a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "POWER_BI_STANDARD", "Microsoft Fabric (Free)", []string{"Power BI (free)"}},
	{"f8a1db68-be16-40ed-86d5-cb42ce701560", "POWER_BI_PRO", "Power BI Pro", nil},
	{"efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "EMS", "Enterprise Mobility + Security E3", nil},
	{"b05e124f-c7cc-45a0-a6aa-8cf78c946968", "EMSPREMIUM", "Enterprise Mobility + Security E5", nil},
	{"078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "AAD_PREMIUM", "Microsoft Entra ID P1", []string{"Azure Active Directory Premium P1", "Azure AD Premium P1"}},
	{"84a661c4-e949-4bd2-a560-ed7766fcaf2b", "AAD_PREMIUM_P2", "Microsoft Entra ID P2", []string{"Azure Active Directory Premium P2", "Azure AD Premium P2"}},
	{"c5928f49-12ba-48f7-ada3-0d743a3601d5", "VISIOCLIENT", "Visio Plan 2", []string{"Visio Online Plan 2"}},
	{"09015f9f-377f-4538-bbb5-f75ceb09358a", "PROJECTPREMIUM", "Project Plan 5", []string{"Project Online Premium"}},
	{"710779e8-3d4a-4c88-adb9-386c958d1fdf", "TEAMS_EXPLORATORY", "Microsoft Teams Exploratory", nil},
}

// productBySku finds a product by skuId or skuPartNumber.
func productBySku(skuID, partNumber string) (Product, bool) {
	for _, p := range Products {
		if strings.EqualFold(p.SkuID, skuID) || (partNumber != "" && strings.EqualFold(p.PartNumber, partNumber)) {
			return p, true
		}
	}
	return Product{}, false
}

// productByName finds a product by its current or a former name.
func productByName(name string) (Product, bool) {
	for _, p := range Products {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
		for _, f := range p.Formerly {
			if strings.EqualFold(f, name) {
				return p, true
			}
		}
	}
	return Product{}, false
}

// productName is the name to show for a SKU: the table's, else the part
// number.
func productName(skuID, partNumber string) string {
	if p, ok := productBySku(skuID, partNumber); ok {
		return p.Name
	}
	return partNumber
}
